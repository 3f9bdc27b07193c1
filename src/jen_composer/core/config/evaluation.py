"""Evaluation config group (`configs/evaluation/`): CLAP, FAD, coherence metrics, listening tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ClapConfig:
    """Which CLAP model scores text-audio alignment (see docs/evaluation.md)."""

    backend: str = "none"  # none (no CLAP scores) | laion | transformers
    checkpoint: str = ""  # laion: a .pt path (music_audioset_epoch_15_esc_90.14.pt); transformers: hub name/path
    amodel: str = "HTSAT-base"  # laion audio tower: HTSAT-base (music ckpt) | HTSAT-tiny (630k-audioset-best.pt)
    enable_fusion: bool = False
    tokenizer: str = "roberta-base"  # laion: name or local folder of the RoBERTa tokenizer; "byt5" = file-free
    batch_size: int = 8
    max_seconds: float = 10.0  # CLAP's window; longer clips are centre-cropped (deterministic)
    device: str = "cpu"


@dataclass
class FadConfig:
    embedding: str = "clap"  # clap (CLAP audio embeddings) | mel (log-mel statistics, no weights)
    reference_cache: str = ""  # folder for cached reference statistics (empty: no cache)
    fad_inf: bool = False  # also extrapolate FAD to infinitely many clips (Chung et al. 2020 style)
    fad_inf_points: int = 8  # subset sizes used for the extrapolation
    fad_inf_min_fraction: float = 0.5  # smallest subset, as a fraction of all clips
    min_clips: int = 2  # fewer clips than this: FAD is reported as null


@dataclass
class CoherenceConfig:
    sample_rate: int = 16000  # rate the coherence metrics analyse at
    hop_length: int = 512
    onset_tolerance_seconds: float = 0.07  # an onset within this of a drum onset counts as in sync
    tempo_tolerance: float = 0.04  # relative error counted as a tempo hit (octave errors folded)
    drums_track: str = "drums"
    bass_track: str = "bass"


@dataclass
class ListeningTestConfig:
    pairs_per_prompt: int = 1  # comparisons per (system, reference) pair and clip
    reference_system: str = ""  # RPR is the share preferred over this system (empty: the first)
    ci_method: str = "wilson"  # wilson | bootstrap
    ci_level: float = 0.95
    bootstrap_samples: int = 2000


@dataclass
class EvaluationConfig:
    clap: ClapConfig = field(default_factory=ClapConfig)
    fad: FadConfig = field(default_factory=FadConfig)
    coherence: CoherenceConfig = field(default_factory=CoherenceConfig)
    listening: ListeningTestConfig = field(default_factory=ListeningTestConfig)
    every_n_val_epochs: int = 1
    split: str = "test"  # songs `evaluate` generates for (prompts, kept stems, references)
    tasks: list[str] = field(default_factory=lambda: ["joint", "conditional"])  # joint | conditional | interactive
    clip_seconds: float = 4.096  # length of every generated clip
    interactive_rounds: int = 0  # rounds of the `interactive` task (Algorithm 1, simulated producer); below 1 counts as 1
    prompts: list[str] = field(default_factory=lambda: ["rock song with distorted guitar"])
    num_clips: int = 8
    seeds: list[int] = field(default_factory=lambda: [0])
    fad_reference: str = ""  # cached reference statistics
    separator: str = "htdemucs"  # Demucs model used to split mixes into our four tracks
    seed: int = 0  # seeds randomness in evaluation (listening-test order, bootstrap)
