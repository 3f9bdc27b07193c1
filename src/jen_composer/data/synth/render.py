"""Render MIDI parts with FluidSynth and a General MIDI soundfont (pretty_midi + pyfluidsynth)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi

from jen_composer.core.errors import DataError, one_line

STEM_PEAK = 0.8  # rendered stems are peak-normalised to this; loudness balance lives in the gains


def check_soundfont(path: str | Path) -> str:
    if not Path(path).is_file():
        raise DataError(
            f"soundfont {path} not found (install one: apt-get install timgm6mb-soundfont, "
            "or set data.synth.soundfont)"
        )
    return str(path)


def render_part(inst: pretty_midi.Instrument, sample_rate: int, samples: int, soundfont: str) -> np.ndarray:
    """Mono float32 ``[samples]``, trimmed or zero-padded to the song length, peak-normalised."""
    out = np.zeros(samples, dtype=np.float32)
    if inst.notes:
        try:
            y = inst.fluidsynth(fs=sample_rate, synthesizer=soundfont)
        except Exception as exc:
            raise DataError(f"FluidSynth failed with soundfont {soundfont}: {one_line(exc)}") from None
        n = min(samples, y.shape[0])
        out[:n] = y[:n]
    peak = float(np.abs(out).max())
    if peak > 0:
        out *= STEM_PEAK / peak
    return out


def fit_gains(stems: dict[str, np.ndarray], gains: dict[str, float], peak: float) -> dict[str, float]:
    """Scale all gains together so that the gain-scaled sum stays below ``peak``."""
    mix = sum(gains[t] * x for t, x in stems.items())
    top = float(np.abs(mix).max()) if isinstance(mix, np.ndarray) else 0.0
    scale = min(1.0, peak / top) if top > 0 else 1.0
    return {t: round(g * scale, 4) for t, g in gains.items()}
