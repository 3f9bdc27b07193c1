"""Writing a converted song: resample, sum sources per track, pad to one length, meta.json."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jen_composer.core.errors import DataError
from jen_composer.core.io import atomic_dir
from jen_composer.data.audio import fit_peak, load_conformed, peak, write_audio
from jen_composer.data.schema import SongMeta, write_meta

TRACKS = ("bass", "drums", "instrument", "melody")


@dataclass
class ConvertSummary:
    """Songs written, songs skipped (id -> reason) and one note per converted or repaired file."""

    written: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.written)} song(s) written, {len(self.skipped)} skipped"


def safe_id(name: str) -> str:
    """A folder-safe song id ("Artist - Title" -> "Artist_-_Title")."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "song"


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    return np.pad(x[:, :n], ((0, 0), (0, n - min(n, x.shape[-1]))))


def _length_change(have: int, n: int, sample_rate: int) -> list[str]:
    if have < n:
        return [f"padded with {(n - have) / sample_rate:.3f} s of silence to the song length"]
    if have > n:
        return [f"truncated by {(have - n) / sample_rate:.3f} s to the song length"]
    return []


def write_song(
    out: Path, song_id: str, sources: dict[str, list[Path]], sample_rate: int, channels: int,
    meta: SongMeta, mix: Path | None = None, notes: list[str] | None = None,
) -> None:
    """Sum each track's source files (resampled), pad all tracks to the longest, write the folder.

    A track without sources is written as silence, so every song has all four tracks. Every
    change to a source file (resample, downmix, pad, truncate, gain) is appended to ``notes`` as
    one line per file; the folder appears whole or not at all.
    """
    changes: dict[Path, list[str]] = {}
    loaded: dict[str, list[tuple[Path, np.ndarray]]] = {}
    for track in TRACKS:
        for p in sources.get(track, []):
            x, changes[p] = load_conformed(p, song_id, sample_rate, channels)
            loaded.setdefault(track, []).append((p, x))
    n = max((x.shape[-1] for parts in loaded.values() for _, x in parts), default=0)
    if n == 0:
        raise DataError(f"song '{song_id}': no audio to write (no source file matched a track)")
    audio = {t: sum(_pad(x, n) for _, x in parts) for t, parts in loaded.items()}
    mix_audio = None
    if mix is not None:
        m, changes[mix] = load_conformed(mix, song_id, sample_rate, channels)
        changes[mix] += _length_change(m.shape[-1], n, sample_rate)
        mix_audio = _pad(m, n)
    for parts in loaded.values():
        for p, x in parts:
            changes[p] += _length_change(x.shape[-1], n, sample_rate)
    top = max(peak(a) for a in [*audio.values(), *([mix_audio] if mix_audio is not None else [])])
    _, scale = fit_peak(np.array([top]))  # summed sources may clip: scale all tracks alike
    if scale != 1.0:
        for p in changes:
            changes[p].append(f"scaled by {20 * np.log10(scale):.1f} dB (summed peak {top:.2f} would clip)")
    with atomic_dir(out / song_id) as folder:
        for track in TRACKS:
            x = audio.get(track, np.zeros((channels, n), dtype=np.float32))
            write_audio(folder / f"{track}.wav", x * scale, sample_rate)  # type: ignore[operator]
        if mix_audio is not None:
            write_audio(folder / "mix.wav", mix_audio * scale, sample_rate)
        write_meta(folder, meta)
    if notes is not None:
        notes.extend(f"song '{song_id}': {p.name}: {', '.join(c)}" for p, c in changes.items() if c)
