"""Time grids: which integer levels T-1 = t_0 > t_1 > ... > t_n = 0 a sampler visits (n denoiser calls).

- ``uniform``: even jumps in t (the DDIM paper's choice). On the cosine schedule it spends most
  calls at high noise, where the x0 estimate barely changes, and too few near the data.
- ``logsnr``: n points evenly spaced in log-SNR lambda over ``LOGSNR_RANGE``, the first replaced by
  T (the exact first step from T covers everything below), then t_n = 0 (the last call's x0
  estimate is the answer). Exponential integrators (DPM-Solver++,
  UniPC) are exact for an x0 estimate constant in lambda, so equal lambda steps spread their error
  evenly; this is the default.
- explicit points (``composer.sampler.logsnr_points``): a grid calibrated to one model and task
  (``diffusion.calibration``), used instead of the rule named by ``time_grid``.
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

from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.schedule import NoiseSchedule

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


def _pieces(u_ends: tuple[float, float], u_joins: list[float], intervals: int) -> torch.Tensor:
    """``intervals + 1`` points from u_ends[0] to u_ends[1], evenly spaced within each piece between
    the joins, the intervals shared out in proportion to the pieces' lengths (at least one each)."""
    cuts = [u_ends[0], *sorted(u_joins, reverse=u_ends[0] > u_ends[1]), u_ends[1]]
    lengths = torch.tensor([abs(b - a) for a, b in zip(cuts, cuts[1:])], dtype=torch.float64)
    share = lengths / lengths.sum() * intervals
    counts = share.floor().long().clamp_min(1)
    while counts.sum() < intervals:  # largest remainder first
        counts[int((share - counts).argmax())] += 1
    while counts.sum() > intervals:
        counts[int(torch.where(counts > 1, counts - share, torch.full_like(share, -1e9)).argmax())] -= 1
    parts = [torch.linspace(a, b, int(n) + 1, dtype=torch.float64)[:-1] for a, b, n in zip(cuts, cuts[1:], counts)]
    return torch.cat([*parts, torch.tensor([u_ends[1]], dtype=torch.float64)])


def time_grid(kind: str, steps: int, schedule: NoiseSchedule, joins: list[int] | tuple[int, ...] = (),
              points: tuple[float, ...] | list[float] = ()) -> list[int]:
    """Descending integer levels from T to 0 for ``steps`` denoiser calls (see the module note).

    ``joins``: levels where a track starts later (re-imagined). Each one inside the range becomes a
    grid point, with even spacing on either side, so the joining track takes full steps (multistep
    history mixes x0 estimates taken while it waited; a sliver of a first step breaks it).
    ``points``: an explicit grid instead of ``kind`` (``steps - 1`` log-SNR values between T and 0,
    e.g. calibrated: ``diffusion.calibration``); joins are then snapped on by the sampler.
    """
    T = schedule.T
    if kind not in TIME_GRIDS:
        raise ConfigError(f"composer.sampler.time_grid: '{kind}' is not one of {TIME_GRIDS}")
    if not 1 <= steps <= T - 1:
        raise ConfigError(f"composer.sampler.steps: {steps} is outside 1..{T - 1}")
    if points:
        if len(points) != steps - 1:
            raise ConfigError(f"composer.sampler.logsnr_points: {len(points)} points for {steps} steps (need {steps - 1})")
        lam = torch.tensor(sorted(float(v) for v in points), dtype=torch.float64)  # rising lambda = falling level
        return _strictly_decreasing([T, *_nearest_levels(schedule, lam)], T) + [0]
    if kind == "uniform":
        grid = torch.linspace(T, 0, steps + 1, dtype=torch.float64).round().long().tolist()
        return sorted(set(grid), reverse=True)
    if steps == 1:
        return [T, 0]
    trained = schedule.log_snr(torch.tensor([T - 1, 1]))
    ends = torch.tensor(LOGSNR_RANGE, dtype=torch.float64).clamp(trained[0], trained[1])
    lam_joins = schedule.log_snr(torch.tensor(sorted(set(joins)), dtype=torch.long)) if joins else torch.empty(0)
    inside = [float(v) for v in lam_joins if ends[0] < v < ends[1]]
    inside = inside[: max(0, steps - 2)]  # each join needs an interval of its own
    to_u = (lambda v: v) if kind == "logsnr" else (lambda v: float(torch.tensor(-v / KARRAS_RHO).exp()))
    u = _pieces((to_u(float(ends[0])), to_u(float(ends[1]))), [to_u(v) for v in inside], steps - 1)
    lam = u if kind == "logsnr" else -KARRAS_RHO * u.log()  # u = sigma^(1/rho), sigma = exp(-lambda)
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
