"""Timestep conditioning: one embedding per track (``vector``) or one for all tracks (``shared``),
per sample or per latent frame."""

from __future__ import annotations

import math

import torch
from torch import nn

from jen_composer.core.config.options import TimestepMode, choices
from jen_composer.core.errors import ConfigError

TIMESTEP_MODES = choices(TimestepMode)


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of (possibly fractional) timesteps: ``t [...]`` -> ``[..., dim]``."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[..., None] * freqs
    emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    return nn.functional.pad(emb, (0, dim - 2 * half))


class TimestepEmbedding(nn.Module):
    """``t [B, k]`` -> ``[B, dim]``, or frame levels ``t [B, k, L]`` -> ``[B, L, dim]``.

    ``vector`` (paper, section 4.1.2): each track's t_i goes through sinusoid + a shared MLP; the k
    embeddings are concatenated in track order and projected, so the net sees every track's noise
    level and which track has it. ``shared`` (ablation baseline): one scalar per sample, the
    largest t_i (in joint-only training all t_i are equal, so this is "the" timestep).
    Frame levels (``composer.frame_timesteps``) apply the same weights to each frame's level vector,
    so a frame embeds exactly what a track at that level embeds (no new parameters).
    """

    def __init__(self, num_tracks: int, dim: int, mode: str) -> None:
        super().__init__()
        if mode not in TIMESTEP_MODES:
            raise ConfigError(f"composer.diffusion.timestep_mode: '{mode}' is not one of {TIMESTEP_MODES}")
        self.mode, self.num_tracks, self.freq_dim = mode, num_tracks, dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        tracks_in = num_tracks if mode == "vector" else 1
        self.combine = nn.Sequential(nn.SiLU(), nn.Linear(tracks_in * dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        if t.dim() not in (2, 3) or t.shape[1] != self.num_tracks:
            raise ValueError(f"timesteps must be [B, {self.num_tracks}] or [B, {self.num_tracks}, L], got {tuple(t.shape)}")
        levels = t.transpose(1, 2) if t.dim() == 3 else t  # [B, (L,) k]: tracks last
        if self.mode == "shared":
            levels = levels.max(dim=-1, keepdim=True).values
        per_track = self.mlp(sinusoidal_embedding(levels, self.freq_dim))  # [B, (L,) k', dim]
        return self.combine(per_track.flatten(-2))
