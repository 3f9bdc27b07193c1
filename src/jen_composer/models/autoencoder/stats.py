"""Per-channel latent statistics, so that ``encode`` hands the diffusion model unit-scale latents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from jen_composer.models.autoencoder.chunking import pad_to_multiple


def flatten_tracks(batch: Any) -> torch.Tensor:
    """A data-layer batch (dict with ``audio`` [B, k, C, S]) or a tensor -> waves [N, C, S]."""
    audio = batch["audio"] if isinstance(batch, dict) else batch
    if audio.dim() == 4:
        audio = audio.reshape(-1, *audio.shape[2:])
    if audio.dim() != 3:
        raise ValueError(f"expected audio [B, k, C, S] or [B, C, S], got {list(audio.shape)}")
    return audio


def non_silent(waves: torch.Tensor, threshold: float = 1e-6) -> torch.Tensor:
    """Rows of [N, C, S] whose peak exceeds ``threshold`` (all-silent tracks teach nothing)."""
    keep = waves.abs().amax(dim=(1, 2)) > threshold
    return waves[keep]


@torch.no_grad()
def compute_latent_stats(model: torch.nn.Module, batches: Iterable[Any], max_batches: int | None = None) -> dict[str, torch.Tensor]:
    """Store the per-channel mean/std of raw latents over ``batches`` in the model's buffers.

    Works on any model with ``encode_raw``, ``hop``, ``latent_mean`` and ``latent_std`` (the VAE);
    silent tracks are skipped. Returns the new statistics.
    """
    device = model.latent_mean.device
    count = 0
    total = torch.zeros_like(model.latent_mean, dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    was_training = model.training
    model.eval()
    for i, batch in enumerate(batches):
        if max_batches is not None and i >= max_batches:
            break
        waves = non_silent(flatten_tracks(batch)).to(device)
        if waves.shape[0] == 0:
            continue
        z = model.encode_raw(pad_to_multiple(waves, model.hop)).double()
        total += z.sum(dim=(0, 2))
        total_sq += z.pow(2).sum(dim=(0, 2))
        count += z.shape[0] * z.shape[2]
    model.train(was_training)
    if count == 0:
        raise ValueError("compute_latent_stats: no non-silent audio in the batches")
    mean = total / count
    std = (total_sq / count - mean.pow(2)).clamp_min(1e-8).sqrt()
    model.latent_mean.copy_(mean.to(model.latent_mean.dtype))
    model.latent_std.copy_(std.clamp_min(1e-4).to(model.latent_std.dtype))
    return {"mean": model.latent_mean.clone(), "std": model.latent_std.clone()}
