"""Known-answer stems for validating the metrics: clicks on beats, bass on chord roots, chords.

Tests and the metric self-checks use these instead of downloaded audio: a song's own stems must
score better than stems from another song or shifted in time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SynthSong:
    stems: dict[str, np.ndarray]  # bass, drums, instrument, melody: mono float32 [S]
    sample_rate: int
    tempo: float
    chords: list[tuple[float, float, int]]  # (start s, end s, root pitch class)


def _tone(freq: float, n: int, sr: int, partials: int = 3) -> np.ndarray:
    t = np.arange(n) / sr
    return sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, partials + 1))


def _envelope(n: int, sr: int, decay: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (decay * sr))


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def synth_song(tempo: float, roots: list[int], seconds: float, sr: int = 16000, seed: int = 0,
               beats_per_chord: int = 4) -> SynthSong:
    """Four stems at ``tempo`` cycling through chord ``roots`` (major triads), one chord a bar."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    beat = 60.0 / tempo
    stems = {name: np.zeros(n) for name in ("bass", "drums", "instrument", "melody")}
    chords = []
    n_beats = int(seconds / beat)
    for b in range(n_beats):
        start = int(round(b * beat * sr))
        length = min(int(beat * sr), n - start)
        root = roots[(b // beats_per_chord) % len(roots)]
        if b % beats_per_chord == 0:
            chords.append((b * beat, min((b + beats_per_chord) * beat, seconds), root))
        click = min(int(0.03 * sr), length)
        stems["drums"][start : start + click] += rng.standard_normal(click) * _envelope(click, sr, 0.008)
        env = _envelope(length, sr, 0.25 * beat)
        stems["bass"][start : start + length] += _tone(_hz(36 + root), length, sr) * env
        triad = sum(_tone(_hz(60 + root + iv), length, sr, 2) for iv in (0, 4, 7))
        stems["instrument"][start : start + length] += triad * env / 3
        note = 72 + root + (0, 4, 7, 12)[b % 4]
        stems["melody"][start : start + length] += _tone(_hz(note), length, sr, 2) * env
    out = {k: (0.3 * v / (np.abs(v).max() + 1e-9)).astype(np.float32) for k, v in stems.items()}
    return SynthSong(stems=out, sample_rate=sr, tempo=tempo, chords=chords)


def shift(wave: np.ndarray, seconds: float, sr: int) -> np.ndarray:
    """Delay ``wave`` by ``seconds`` (zeros in front, same length)."""
    k = int(round(seconds * sr))
    return np.concatenate([np.zeros(k, dtype=wave.dtype), wave[: len(wave) - k]])
