"""Data config group (`configs/data/`): dataset location, tracks, snippet slicing, loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from jen_composer.core.config.options import DataSource, OnBadInput


def _paper_tracks() -> list[str]:
    return ["bass", "drums", "instrument", "melody"]


def _synth_genres() -> list[str]:
    return ["pop", "rock", "funk", "jazz", "electronic"]


@dataclass
class PromptConfig:
    """How prompts are built from a song's tags and caption."""

    tag_dropout: float = 0.1  # drop each tag with this probability (training only)
    shuffle_tags: bool = True  # shuffle tag order (training only)
    caption_probability: float = 0.5  # use the free-text caption instead of tags (training only)


@dataclass
class SynthConfig:
    """The rendered benchmark (`jen-composer data synth`)."""

    songs: int = 24
    seconds: float = 12.0
    seed: int = 0
    soundfont: str = "/usr/share/sounds/sf2/TimGM6mb.sf2"
    genres: list[str] = field(default_factory=_synth_genres)  # subset of data.synth.genres.GENRES
    mix_peak: float = 0.95  # gains are scaled down so that the gain-scaled mix never exceeds this


@dataclass
class DataConfig:
    root: str = "data/synth"  # dataset folder in the canonical layout (one folder per song)
    tracks: list[str] = field(default_factory=_paper_tracks)
    sample_rate: int = 16000
    channels: int = 1
    snippet_seconds: float = 2.048
    source: DataSource = DataSource.audio
    latent_cache: str = ""  # folder written by `jen-composer data encode` (source=latents)
    split_seed: int = 0
    test_fraction: float = 0.2  # songs split 4:1 (train:test) as in the paper
    val_fraction: float = 0.1  # carved out of the training songs
    silence_threshold_db: float = -50.0  # skip windows whose tracks are all below this (RMS dBFS)
    crop_tries: int = 10  # random train crops drawn before falling back to a known active window
    batch_size: int = 8
    num_workers: int = 0
    pin_memory: bool = False
    persistent_workers: bool = False
    on_bad_input: OnBadInput = OnBadInput.error
    length_tolerance_seconds: float = 0.05  # stems of one song may differ by at most this
    prompt: PromptConfig = field(default_factory=PromptConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
