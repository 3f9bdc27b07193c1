"""Discrete noise schedules with the timestep semantics of section 4.1.2.

``alpha_bar[t]`` for t in 0..T: ``alpha_bar[0] = 1`` (t=0: a clean condition) and
``alpha_bar[T] = 0`` exactly (t=T: absent). The schedule's sqrt(alpha_bar) over 1..T is shifted
and rescaled so that its last value is zero ("zero terminal SNR", Lin et al. 2024): a track at
t=T is pure N(0, I) noise, independent of its content, so an absent track carries no information
by construction, in training and in sampling alike. Generation therefore starts at t=T-1 from pure
noise (alpha_bar[T-1] is ~1e-6 for both schedules at T=1000), the highest level the loss ever
trains; t=T is only ever seen by the model as "absent".

With v-prediction every conversion below is exact at every t. With eps-prediction x0 is not
identifiable at alpha_bar=0, so ``to_x0`` returns 0 (the latent mean) there; only absent tracks
reach that level and their prediction is never used.
"""

from __future__ import annotations

import math

import torch
from omegaconf import DictConfig

from jen_composer.core.config.composer import DiffusionConfig
from jen_composer.core.config.options import NoiseScheduleKind, Prediction, choices
from jen_composer.core.errors import ConfigError

SCHEDULES = choices(NoiseScheduleKind)
PREDICTIONS = choices(Prediction)


def _raw_alpha_bar(kind: str, T: int) -> torch.Tensor:
    steps = torch.arange(T + 1, dtype=torch.float64)
    if kind == "linear":  # DDPM betas 1e-4..0.02 at T=1000, scaled with T
        betas = torch.linspace(0.1 / T, 20.0 / T, T, dtype=torch.float64)
        return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1.0 - betas, 0)])
    if kind == "cosine":  # Nichol & Dhariwal 2021, s = 0.008
        f = torch.cos((steps / T + 0.008) / 1.008 * math.pi / 2) ** 2
        return (f / f[0]).clamp(0.0, 1.0)
    raise ConfigError(f"composer.diffusion.schedule: '{kind}' is not one of {SCHEDULES}")


class NoiseSchedule:
    """``alpha_bar`` (float64, ``[T+1]``) and the per-track conversions the samplers and loss use."""

    def __init__(self, timesteps: int = 1000, kind: str = "cosine", prediction: str = "v") -> None:
        if timesteps < 2:
            raise ConfigError(f"composer.diffusion.timesteps: must be at least 2, got {timesteps}")
        if prediction not in PREDICTIONS:
            raise ConfigError(f"composer.diffusion.prediction: '{prediction}' is not one of {PREDICTIONS}")
        self.T, self.kind, self.prediction = int(timesteps), kind, prediction
        sq = _raw_alpha_bar(kind, self.T).sqrt()
        first, last = sq[1].clone(), sq[self.T].clone()
        sq[1:] = (sq[1:] - last) * first / (first - last)  # zero terminal SNR, keeps alpha_bar[1]
        self.alpha_bar = sq**2
        self.alpha_bar[0], self.alpha_bar[self.T] = 1.0, 0.0

    @classmethod
    def from_config(cls, cfg: DiffusionConfig | DictConfig) -> NoiseSchedule:
        """From ``cfg.composer.diffusion`` (timesteps, schedule, prediction)."""
        return cls(cfg.timesteps, cfg.schedule, cfg.prediction)

    def coefficients(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sqrt(alpha_bar_t), sqrt(1 - alpha_bar_t))`` for ``t [B, k]``, shaped ``[B, k, 1, 1]``, or
        for frame levels ``t [B, k, L]`` (``composer.frame_timesteps``), shaped ``[B, k, 1, L]``."""
        ab = self.alpha_bar.to(like.device)[t.long()].to(like.dtype)
        ab = ab[:, :, None, :] if t.dim() == 3 else ab[..., None, None]
        return ab.sqrt(), (1.0 - ab).clamp_min(0).sqrt()

    def levels(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """float64 ``(sqrt(ab), sqrt(1 - ab))`` for ``t [B, k]`` as ``[B, k, 1, 1]``: the solvers'
        coefficients (log-SNR differences and phi functions cancel badly in float32)."""
        return self.coefficients(t, torch.empty(0, dtype=torch.float64, device=t.device))

    def log_snr(self, t: torch.Tensor) -> torch.Tensor:
        """``lambda_t = log(sqrt(ab) / sqrt(1 - ab))`` (float64): +inf at t=0, -inf at t=T."""
        ab = self.alpha_bar.to(t.device)[t.long()]
        return 0.5 * (ab.log() - (1.0 - ab).log())

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Eq. 2 per track: ``x_t = sqrt(ab_{t_i}) x0 + sqrt(1 - ab_{t_i}) eps`` for ``[B, k, d, L]``."""
        a, s = self.coefficients(t, x0)
        return a * x0 + s * noise

    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """What the network regresses: eps, or v = sqrt(ab) eps - sqrt(1 - ab) x0."""
        if self.prediction == "eps":
            return noise
        a, s = self.coefficients(t, x0)
        return a * noise - s * x0

    def to_x0(self, pred: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The network's x0 estimate from its raw prediction (see the module note for eps at t=T)."""
        a, s = self.coefficients(t, x_t)
        if self.prediction == "v":
            return a * x_t - s * pred
        return torch.where(a > 0, (x_t - s * pred) / a.clamp_min(1e-12), torch.zeros_like(x_t))

    def eps_from_x0(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The noise implied by an x0 estimate (undefined at t=0, where 0 is returned)."""
        a, s = self.coefficients(t, x_t)
        return torch.where(s > 0, (x_t - a * x0) / s.clamp_min(1e-12), torch.zeros_like(x_t))
