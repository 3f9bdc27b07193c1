"""`jen-composer data synth`: a deterministic rendered benchmark in the canonical song layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
from omegaconf import DictConfig, OmegaConf

from jen_composer.core.config.data import SynthConfig
from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_dir, atomic_write_json
from jen_composer.data.audio import to_channels, write_audio
from jen_composer.data.schema import SongMeta, write_meta
from jen_composer.data.splits import write_splits
from jen_composer.data.synth.compose import compose_song
from jen_composer.data.synth.genres import GENRES
from jen_composer.data.synth.render import check_soundfont, fit_gains, render_part

TRACKS = ("bass", "drums", "instrument", "melody")  # the synth writes the paper's four tracks


def synth_song(out: Path, song_id: str, genre: str, cfg: SynthConfig, sample_rate: int, channels: int,
               rng: np.random.Generator) -> None:
    """Compose, render and write one song folder (stems, mix, MIDI, meta.json)."""
    score = compose_song(GENRES[genre], cfg.seconds, rng)
    samples = round(cfg.seconds * sample_rate)
    stems = {t: render_part(score.parts[t], sample_rate, samples, cfg.soundfont) for t in TRACKS}
    jitter = {t: float(np.clip(g + rng.uniform(-0.1, 0.1), 0.2, 1.0)) for t, g in score.base_gains.items()}
    gains = fit_gains(stems, jitter, cfg.mix_peak)
    mix = sum(gains[t] * stems[t] for t in TRACKS)  # fit_gains keeps its peak below cfg.mix_peak
    with atomic_dir(out / song_id) as folder:
        for t in TRACKS:
            write_audio(folder / f"{t}.wav", to_channels(stems[t][None], channels), sample_rate)
            (folder / "midi").mkdir(parents=True, exist_ok=True)
            midi = pretty_midi.PrettyMIDI(initial_tempo=float(score.labels["tempo"]))
            midi.instruments.append(score.parts[t])
            midi.write(str(folder / "midi" / f"{t}.mid"))
        write_audio(folder / "mix.wav", to_channels(np.asarray(mix)[None], channels), sample_rate)
        write_meta(folder, SongMeta(tags=score.tags, caption=score.caption, gains=gains, labels=score.labels))


MARKER = "synth.json"  # written by every render: what it was rendered with, so a later run can reuse it


def render_record(cfg: SynthConfig | DictConfig, sample_rate: int, channels: int) -> dict[str, Any]:
    """What ``MARKER`` holds for a render of ``cfg`` (plain JSON types, so records compare equal)."""
    synth = OmegaConf.to_container(cfg if isinstance(cfg, DictConfig) else OmegaConf.structured(cfg), resolve=True)
    return json.loads(json.dumps({"synth": synth, "sample_rate": int(sample_rate), "channels": int(channels)}))


def song_id(index: int) -> str:
    return f"song{index:04d}"


def synth_songs(out: str | Path, cfg: SynthConfig | DictConfig, indices: list[int], sample_rate: int, channels: int,
                progress: bool = True) -> list[str]:
    """Write songs number ``indices`` of the render ``cfg`` describes (no splits, no marker): song i is
    the same music in every render with the same seed, genres and length, whatever else it holds."""
    unknown = [g for g in cfg.genres if g not in GENRES]
    if unknown or not cfg.genres:
        raise ConfigError(f"data.synth.genres: unknown genre(s) {unknown}; choose from {', '.join(GENRES)}")
    if cfg.seconds <= 0:
        raise ConfigError("data.synth.seconds must be > 0")
    check_soundfont(cfg.soundfont)
    from tqdm.auto import tqdm

    for i in tqdm(indices, desc="synth", unit="song", disable=not progress):
        rng = np.random.default_rng([cfg.seed, i])
        synth_song(Path(out), song_id(i), list(cfg.genres)[i % len(cfg.genres)], cfg, sample_rate, channels, rng)
    return [song_id(i) for i in indices]


def is_render_of(root: Path, cfg: SynthConfig | DictConfig, sample_rate: int, channels: int) -> bool:
    """Whether ``root`` holds a finished render of ``cfg`` (its ``MARKER`` says so; a damaged marker: no)."""
    try:
        return json.loads((root / MARKER).read_text()) == render_record(cfg, sample_rate, channels)
    except (OSError, ValueError):
        return False


def synth_dataset(out: str | Path, cfg: SynthConfig | DictConfig, sample_rate: int, channels: int,
                  split_seed: int = 0, test_fraction: float = 0.2, val_fraction: float = 0.1,
                  progress: bool = True) -> list[str]:
    """Write ``cfg.songs`` songs of ``cfg.seconds`` seconds; song i depends only on (seed, i)."""
    if cfg.songs < 1 or cfg.seconds <= 0:
        raise ConfigError("data.synth.songs must be >= 1 and data.synth.seconds > 0")
    root = Path(out)
    ids = synth_songs(root, cfg, list(range(cfg.songs)), sample_rate, channels, progress)
    write_splits(root, ids, split_seed, test_fraction, val_fraction, force=True)
    atomic_write_json(root / MARKER, render_record(cfg, sample_rate, channels))
    return ids
