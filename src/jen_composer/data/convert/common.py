"""Writing a converted song: resample, sum sources per track, pad to one length, meta.json."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jen_composer.data.audio import load_resampled, write_audio
from jen_composer.data.schema import SongMeta, write_meta

TRACKS = ("bass", "drums", "instrument", "melody")


@dataclass
class ConvertSummary:
    written: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{len(self.written)} song(s) written, {len(self.skipped)} skipped"


def safe_id(name: str) -> str:
    """A folder-safe song id ("Artist - Title" -> "Artist_-_Title")."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "song"


def write_song(
    out: Path, song_id: str, sources: dict[str, list[Path]], sample_rate: int, channels: int,
    meta: SongMeta, mix: Path | None = None,
) -> None:
    """Sum each track's source files (resampled), pad all tracks to the longest, write the folder.

    A track without sources is written as silence, so every song has all four tracks.
    """
    audio: dict[str, np.ndarray] = {}
    for track in TRACKS:
        parts = [load_resampled(p, song_id, sample_rate, channels) for p in sources.get(track, [])]
        if parts:
            n = max(p.shape[-1] for p in parts)
            audio[track] = sum(np.pad(p, ((0, 0), (0, n - p.shape[-1]))) for p in parts)  # type: ignore[assignment]
    n = max((a.shape[-1] for a in audio.values()), default=0)
    folder = out / song_id
    peak = max((float(np.abs(a).max()) for a in audio.values()), default=0.0)
    scale = 0.99 / peak if peak > 0.99 else 1.0  # summed sources may clip: scale all tracks alike
    for track in TRACKS:
        x = audio.get(track, np.zeros((channels, n), dtype=np.float32))
        write_audio(folder / f"{track}.wav", np.pad(x, ((0, 0), (0, n - x.shape[-1]))) * scale, sample_rate)
    if mix is not None:
        m = load_resampled(mix, song_id, sample_rate, channels)[:, :n]
        write_audio(folder / "mix.wav", np.pad(m, ((0, 0), (0, n - m.shape[-1]))) * scale, sample_rate)
    write_meta(folder, meta)
