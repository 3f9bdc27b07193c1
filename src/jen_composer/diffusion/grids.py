"""Time grids: which integer levels T-1 = t_0 > t_1 > ... > t_n = 0 a sampler visits (n denoiser calls).

- ``uniform``: even jumps in t (the DDIM paper's choice). On the cosine schedule it spends most
  calls at high noise, where the x0 estimate barely changes, and too few near the data.
- ``logsnr``: n points evenly spaced in log-SNR lambda over ``LOGSNR_RANGE``, the first replaced by
  T (the exact first step from T covers everything below), then t_n = 0 (the last call's x0
  estimate is the answer). Exponential integrators (DPM-Solver++,
  UniPC) are exact for an x0 estimate constant in lambda, so equal lambda steps spread their error
  evenly; this is the default.
- ``karras``: Karras et al. (2022) rho=7 spacing of sigma = sqrt(1-ab)/sqrt(ab) over the same range
  (denser near the data).

``LOGSNR_RANGE`` = (-4, 3) for latents of about unit variance: below SNR e^-8 the x0 estimate is
the conditional mean to 3e-4, so the exact first step from T (see samplers.py) covers it; the last
call at sigma = e^-3 = 0.05 of the data scale is as low as diffusers' default 25-step grids on the
cosine schedule go (t=40, lambda=2.6), and equal steps over the full trained range (-6.5, 5) need
more calls for the same error on the Gaussian benchmark (tests/exact_moments.py). Both ends are
clamped to the levels the schedule has (T-1 and 1). Points are rounded to the nearest integer
level (the network is trained on integers) and kept strictly decreasing, so ``len(grid) - 1`` is
exactly the number of denoiser calls.
"""

from __future__ import annotations

import torch

from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.errors import ConfigError

TIME_GRIDS = ("logsnr", "karras", "uniform")
KARRAS_RHO = 7.0
LOGSNR_RANGE = (-4.0, 3.0)


def _nearest_levels(schedule: NoiseSchedule, lam: torch.Tensor) -> list[int]:
    """The integer level in 1..T-1 whose log-SNR is nearest to each target, in order."""
    levels = torch.arange(1, schedule.T)
    table = schedule.log_snr(levels)
    return (levels[(table[None, :] - lam[:, None]).abs().argmin(dim=1)]).tolist()


def _strictly_decreasing(points: list[int], top: int) -> list[int]:
    """``top`` then the rounded points made strictly decreasing and >= 1: colliding neighbours are
    pushed apart downwards, then upwards from the bottom (both ends of the log-SNR range are
    sparse in integer levels)."""
    out = [top] + list(points[1:])
    for i in range(1, len(out)):
        out[i] = min(out[i], out[i - 1] - 1)
    out[-1] = max(out[-1], 1)
    for i in range(len(out) - 2, 0, -1):
        out[i] = max(out[i], out[i + 1] + 1)
    if any(a <= b for a, b in zip(out, out[1:])):
        raise ConfigError(f"composer.sampler.steps: {len(points)} calls do not fit in {top} levels")
    return out


def time_grid(kind: str, steps: int, schedule: NoiseSchedule) -> list[int]:
    """Descending integer levels from T-1 to 0 for ``steps`` denoiser calls (see the module note)."""
    T = schedule.T
    if kind not in TIME_GRIDS:
        raise ConfigError(f"composer.sampler.time_grid: '{kind}' is not one of {TIME_GRIDS}")
    if not 1 <= steps <= T - 1:
        raise ConfigError(f"composer.sampler.steps: {steps} is outside 1..{T - 1}")
    if kind == "uniform":
        grid = torch.linspace(T, 0, steps + 1, dtype=torch.float64).round().long().tolist()
        return sorted(set(grid), reverse=True)
    if steps == 1:
        return [T, 0]
    trained = schedule.log_snr(torch.tensor([T - 1, 1]))
    ends = torch.tensor(LOGSNR_RANGE, dtype=torch.float64).clamp(trained[0], trained[1])
    frac = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)  # point 0 stands for T
    if kind == "logsnr":
        lam = ends[0] + frac * (ends[1] - ends[0])
    else:
        inv = (-ends / KARRAS_RHO).exp()  # sigma^(1/rho), sigma = exp(-lambda)
        lam = -KARRAS_RHO * (inv[0] + frac * (inv[1] - inv[0])).log()
    return _strictly_decreasing(_nearest_levels(schedule, lam), T) + [0]


def snap_to_levels(grid: list[int], levels: list[int], schedule: NoiseSchedule) -> list[int]:
    """Move the grid point nearest (in log-SNR) to each start level onto it, so a re-imagined track
    joins at a grid point with a full step. Multistep history mixes x0 estimates taken while the
    other tracks were elsewhere; a sliver of a first step makes that history's slopes explode."""
    out = list(grid)
    inner = torch.tensor(out[1:-1]) if len(out) > 2 else torch.empty(0, dtype=torch.long)
    for level in sorted(set(levels), reverse=True):
        if level in out or not 0 < level < out[0]:
            continue
        if len(inner):
            lam = schedule.log_snr(inner)
            j = 1 + int((lam - schedule.log_snr(torch.tensor([level]))).abs().argmin())
            if out[j] not in levels:
                out[j] = level
                continue
        out.append(level)
    return sorted(set(out), reverse=True)
