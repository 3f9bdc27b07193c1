"""The sampler names (one place), and the loop that runs a solver on a time grid.

One global clock runs down a grid from T to 0 (``grids.time_grid``). An active track's level is
min(clock, its start) (generated tracks start at T; re-imagined ones at t_s, where they wait until
the clock reaches them); kept tracks stay at 0 and absent ones at T, and neither is ever updated.

Generated tracks start at T, not T-1: with zero terminal SNR pure N(0, I) noise IS the exact
distribution at T, whatever the conditions (starting "at T-1" from pure noise biases the mean by
~sqrt(ab_{T-1}) times the conditional mean). The denoiser is asked at T-1 for a track at T: no
generated track is trained at T (that level means "absent"), x0 is not identifiable there from an
eps prediction, and E[x0 | x_T] = E[x0 | conditions] is what the T-1 estimate approximates.
Each grid interval in which some track moves is one denoiser call; with classifier-free guidance
that call is one batched network forward over the guidance branches (``guidance.GuidedDenoiser``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.grids import TIME_GRIDS, snap_to_levels, time_grid
from jen_composer.diffusion.guidance import Denoiser
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.solvers import (
    DDIM,
    DDPM,
    DPMSolverPP2M,
    DPMSolverPP3M,
    NoiseSource,
    Solver,
    UniPC,
)

Progress = Callable[[int, int], None]
SOLVERS: dict[str, type[Solver]] = {cls.name: cls for cls in (UniPC, DPMSolverPP3M, DPMSolverPP2M, DDIM, DDPM)}
SAMPLERS = tuple(SOLVERS)  # every valid ``composer.sampler.name``
__all__ = ["SAMPLERS", "TIME_GRIDS", "Progress", "make_solver", "run_sampler", "sampler_grid"]


def make_solver(name: str, schedule: NoiseSchedule, eta: float, noise: NoiseSource) -> Solver:
    if name not in SOLVERS:
        raise ConfigError(f"composer.sampler.name: '{name}' is not one of {SAMPLERS}")
    return SOLVERS[name](schedule, eta, noise)


def sampler_grid(name: str, steps: int, kind: str, schedule: NoiseSchedule,
                 joins: list[int] | tuple[int, ...] = (), points: tuple[float, ...] | list[float] = ()) -> list[int]:
    """The levels sampler ``name`` visits: every level for ddpm, else ``time_grid`` (``joins``: the
    levels where re-imagined tracks start; ``points``: an explicit log-SNR grid)."""
    if name in SOLVERS and SOLVERS[name].every_level:
        return list(range(schedule.T, -1, -1))
    return time_grid(kind, steps, schedule, joins, points)


def run_sampler(denoiser: Denoiser, schedule: NoiseSchedule, x: torch.Tensor, t_start: torch.Tensor,
                active: torch.Tensor, solver: Solver, grid: list[int],
                after_step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                progress: Progress | None = None, resample: int = 0) -> torch.Tensor:
    """Denoise the active tracks of ``x [B,k,d,L]`` (at levels ``t_start``) down to t=0 along ``grid``.

    ``after_step(x, t_next)`` may overwrite parts of the state (inpainting). Steps in which no
    track moves (re-imagined tracks waiting for the clock) cost no denoiser call. ``resample``
    (with ``after_step``): RePaint (Lugmayr et al. 2022): each step is redone ``resample`` more
    times from the result forward-noised back to its start level with fresh noise, so the free
    part of the state can agree with the overwritten part; each redo is one more call.
    """
    grid = snap_to_levels(grid, t_start[active].unique().tolist(), schedule)
    total = len(grid) - 1
    top = schedule.T - 1
    for i in range(total):
        t_cur = torch.where(active, t_start.clamp(max=grid[i]), t_start)
        t_next = torch.where(active, t_start.clamp(max=grid[i + 1]), t_start)
        moving = active & (t_next < t_cur)
        if bool(moving.any()):
            passes = 1 + (resample if after_step is not None and i + 2 < len(grid) else 0)
            saved = solver.state()
            t_in = torch.where(active, t_cur.clamp(max=top), t_cur)
            start = x
            for p in range(passes):
                if p > 0:  # back to t_cur: x_t = sqrt(ab_t / ab_n) x_n + sqrt(1 - ab_t / ab_n) z
                    solver.restore(saved)
                    ratio = schedule.levels(t_cur)[0] / schedule.levels(t_next)[0]
                    back = (ratio * x + (1 - ratio**2).clamp_min(0).sqrt() * solver.noise(x)).to(x.dtype)
                    start = torch.where(moving[..., None, None], back, start)
                x0 = denoiser(start, t_in)
                x = torch.where(moving[..., None, None], solver.step(start, x0, t_cur, t_next, moving), start)
                if after_step is not None:
                    x = after_step(x, t_next)
        if progress is not None:
            progress(i + 1, total)
    return x
