"""Reconstruction quality on held-out songs against trivial baselines (silence, a low-pass copy)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torchaudio

from jen_composer.models.autoencoder.base import NormalisedAutoencoder
from jen_composer.models.autoencoder.quality import ReconstructionMetrics, lag1_autocorrelation
from jen_composer.models.autoencoder.stats import flatten_tracks, non_silent


def _batches(source: Any) -> Iterable[Any]:
    """A datamodule (its test split) or any iterable of data-layer batches / wave tensors."""
    if hasattr(source, "test_dataloader"):
        source.setup("test")
        return source.test_dataloader()
    return source


@torch.no_grad()
def evaluate_reconstruction(
    model: NormalisedAutoencoder, source: Any, lowpass_hz: float = 2000.0, max_batches: int | None = None,
    fft_sizes: list[int] | None = None,
) -> dict[str, dict[str, float]]:
    """Mean SI-SDR (dB), multi-resolution STFT distance and log-mel L1 per track, for the model
    (encode -> decode through the public API) and for silence and a ``lowpass_hz`` biquad low-pass copy.

    SI-SDR of silence is degenerate (0 dB: the optimal scale of a zero estimate is ~0); the STFT and
    mel distances are the informative comparison against silence. ``result["latent"]`` holds the
    encodings' lag-1 autocorrelation (`quality.lag1_autocorrelation`): how smooth in time the
    sequences are that a composer must generate."""
    model.eval()
    metrics = ReconstructionMetrics(model.sample_rate, fft_sizes=fft_sizes)
    sums: dict[str, dict[str, float]] = {"model": {}, "silence": {}, "lowpass": {}}
    rows, lag1_sum, lag1_rows = 0, 0.0, 0
    device = model.latent_mean.device
    for i, batch in enumerate(_batches(source)):
        if max_batches is not None and i >= max_batches:
            break
        waves = non_silent(flatten_tracks(batch)).to(device)
        if waves.shape[0] == 0:
            continue
        latents = model.encode(waves)
        lag1, n = lag1_autocorrelation(latents)
        if n:
            lag1_sum, lag1_rows = lag1_sum + lag1 * n, lag1_rows + n
        candidates = {
            "model": model.decode(latents, length=waves.shape[-1]),
            "silence": torch.zeros_like(waves),
            "lowpass": torchaudio.functional.lowpass_biquad(waves, model.sample_rate, lowpass_hz),
        }
        for name, recon in candidates.items():
            for key, value in metrics(recon, waves).items():
                sums[name][key] = sums[name].get(key, 0.0) + value * waves.shape[0]
        rows += waves.shape[0]
    if rows == 0:
        raise ValueError("evaluate_reconstruction: no non-silent tracks in the evaluation data")
    result = {name: {k: v / rows for k, v in vals.items()} for name, vals in sums.items()}
    result["count"] = {"tracks": float(rows)}
    result["latent"] = {"lag1_autocorrelation": lag1_sum / lag1_rows if lag1_rows else float("nan")}
    return result
