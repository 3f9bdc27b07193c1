"""Songs of a rendered benchmark folder, as the probe trainer and the score validation read them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.core.errors import ConfigError, DataError
from jen_composer.data.audio import find_audio, load_resampled
from jen_composer.data.index import list_song_dirs
from jen_composer.data.schema import read_meta
from jen_composer.data.splits import resolve_splits
from jen_composer.metrics.clip_scores import song_labels


@dataclass
class Song:
    id: str
    folder: Path
    stems: dict[str, np.ndarray]  # mono float32 at the requested rate, scaled by the song's mix gains
    labels: dict[str, Any]  # tags + labels (genre, key, tempo, chords, beats, programs)
    text: str
    gains: dict[str, float]  # the mix gains the stems were scaled by


def split_songs(root: Path, split: str, seed: int, test_fraction: float, val_fraction: float) -> list[str]:
    """Song ids of one split of ``root`` (its splits.json when present), sorted."""
    splits = resolve_splits(root, [d.name for d in list_song_dirs(root)], seed, test_fraction, val_fraction)
    if split not in splits:
        raise ConfigError(f"split '{split}': expected one of {', '.join(splits)}")
    if not splits[split]:
        raise DataError(f"{root}: the {split} split holds no songs")
    return sorted(splits[split])


def load_song(root: Path, song: str, tracks: Sequence[str], sample_rate: int) -> Song:
    """One song's gain-scaled mono stems and labels (a missing stem is an error naming the file)."""
    folder = Path(root) / song
    meta = read_meta(folder, list(tracks))
    stems = {}
    for t in tracks:
        path = find_audio(folder, t)
        if path is None:
            raise DataError(f"{folder}: no audio for track '{t}'")
        stems[t] = load_resampled(path, song, sample_rate, 1)[0] * np.float32(meta.gain(t))
    n = min(len(w) for w in stems.values())
    return Song(song, folder, {t: w[:n] for t, w in stems.items()}, song_labels(meta.tags, meta.labels), meta.caption,
                {t: meta.gain(t) for t in tracks})
