"""Samplers that honour the timestep vector: DDPM (ancestral), DDIM and DPM-Solver++(2M).

One global clock runs down a grid from T-1 to 0. An active track's level is min(clock, its start)
(generated tracks start at T-1; re-imagined ones at t_s, where they wait until the clock reaches
them); kept tracks stay at 0 and absent ones at T, and neither is ever updated. Every update is
per track, with that track's own (t, t_next), so tracks at different levels step correctly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from jen_composer.diffusion.guidance import Denoiser
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings

Progress = Callable[[int, int], None]


def timestep_grid(sampler: str, steps: int, T: int) -> list[int]:
    """Descending levels from T-1 to 0: every level for ddpm, ``steps`` even jumps otherwise."""
    if sampler == "ddpm":
        return list(range(T - 1, -1, -1))
    grid = torch.linspace(T - 1, 0, steps + 1, dtype=torch.float64).round().long().tolist()
    return sorted(set(grid), reverse=True)


class _Stepper:
    """One update x_t -> x_{t_next} per track from an x0 estimate."""

    def __init__(self, schedule: NoiseSchedule, sampler: str, eta: float, generator: torch.Generator) -> None:
        self.schedule, self.sampler, self.generator = schedule, sampler, generator
        self.eta = 1.0 if sampler == "ddpm" else float(eta)
        self.prev_x0: torch.Tensor | None = None
        self.prev_h: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor,
                 moving: torch.Tensor) -> torch.Tensor:
        if self.sampler == "dpmpp2m":
            return self._dpmpp2m(x, x0, t, t_next, moving)
        return self._ddim(x, x0, t, t_next)

    def _ddim(self, x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor) -> torch.Tensor:
        """DDIM (Song et al. 2021); eta=1 on every level is the DDPM ancestral posterior step."""
        a, s = self.schedule.coefficients(t, x)
        a_n, s_n = self.schedule.coefficients(t_next, x)
        eps = torch.where(s > 0, (x - a * x0) / s.clamp_min(1e-12), torch.zeros_like(x))
        ab, ab_n = a**2, a_n**2
        var = (s_n**2 / (s**2).clamp_min(1e-12)) * (1 - ab / ab_n.clamp_min(1e-12))
        sigma = self.eta * var.clamp_min(0).sqrt()
        out = a_n * x0 + (s_n**2 - sigma**2).clamp_min(0).sqrt() * eps
        if self.eta > 0:
            out = out + sigma * torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)
        return out

    def _dpmpp2m(self, x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor,
                 moving: torch.Tensor) -> torch.Tensor:
        """DPM-Solver++(2M) (Lu et al. 2022) in data prediction; first order on a track's first
        step and on the last step to t=0."""
        a, s = self.schedule.coefficients(t, x)
        a_n, s_n = self.schedule.coefficients(t_next, x)
        lam = (a.clamp_min(1e-12) / s.clamp_min(1e-12)).log()
        lam_n = (a_n.clamp_min(1e-12) / s_n.clamp_min(1e-12)).log()
        h = (lam_n - lam).clamp_min(1e-12)
        d = x0
        if self.prev_x0 is not None and self.prev_h is not None:
            has_prev = (self.prev_h > 0) & (s_n > 0)
            r = self.prev_h.clamp_min(1e-12) / h
            d2 = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * self.prev_x0
            d = torch.where(has_prev, d2, x0)
        out = torch.where(s_n > 0, (s_n / s.clamp_min(1e-12)) * x - a_n * torch.expm1(-h) * d, x0)
        m = moving[..., None, None]
        self.prev_x0 = torch.where(m, x0, x0 if self.prev_x0 is None else self.prev_x0)
        self.prev_h = torch.where(m, h, torch.zeros_like(h))
        return out


def run_sampler(denoiser: Denoiser, schedule: NoiseSchedule, x: torch.Tensor, t_start: torch.Tensor,
                active: torch.Tensor, settings: SamplerSettings, generator: torch.Generator,
                after_step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                progress: Progress | None = None) -> torch.Tensor:
    """Denoise the active tracks of ``x [B,k,d,L]`` (at levels ``t_start``) down to t=0.

    ``after_step(x, t_next)`` may overwrite parts of the state (inpainting). Steps in which no
    track moves (re-imagined tracks waiting for the clock) cost no denoiser call.
    """
    grid = timestep_grid(settings.name, settings.steps, schedule.T)
    stepper = _Stepper(schedule, settings.name, settings.eta, generator)
    total = len(grid) - 1
    for i in range(total):
        t_cur = torch.where(active, t_start.clamp(max=grid[i]), t_start)
        t_next = torch.where(active, t_start.clamp(max=grid[i + 1]), t_start)
        moving = active & (t_next < t_cur)
        if bool(moving.any()):
            x0 = denoiser(x, t_cur)
            x = torch.where(moving[..., None, None], stepper(x, x0, t_cur, t_next, moving), x)
            if after_step is not None:
                x = after_step(x, t_next)
        if progress is not None:
            progress(i + 1, total)
    return x
