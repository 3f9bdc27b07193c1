"""Audio as every CLAP backend takes it: 48 kHz mono, centre-cropped (laion-clap would crop at random)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torchaudio.functional as AF

from jen_composer.metrics.clap.protocol import CLAP_SAMPLE_RATE


def prepare_audio(wave: torch.Tensor | np.ndarray, sample_rate: int, max_seconds: float) -> torch.Tensor:
    """Mono float32 ``[B, S']`` at 48 kHz, centre-cropped to at most ``max_seconds``."""
    wave = torch.as_tensor(wave).detach().float().cpu()
    if wave.dim() == 3:
        wave = wave.mean(dim=1)
    if wave.dim() != 2:
        raise ValueError(f"audio must be [B, S] or [B, C, S], got shape {tuple(wave.shape)}")
    if sample_rate != CLAP_SAMPLE_RATE:
        wave = AF.resample(wave, int(sample_rate), CLAP_SAMPLE_RATE)
    limit = int(round(max_seconds * CLAP_SAMPLE_RATE))
    if wave.shape[-1] > limit:
        start = (wave.shape[-1] - limit) // 2
        wave = wave[:, start : start + limit]
    return wave.contiguous()


def batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, max(1, size)):
        yield slice(start, min(n, start + size))
