"""A time grid calibrated to one denoiser and task: few calls, little error (issue #12).

A deterministic sampler's error at few calls is mostly where its grid points sit: the x0 estimate
of a direction of the data with variance v changes fastest near log-SNR -log v, so the best grid
depends on the model and the task, and no fixed rule (even log-SNR spacing, Karras) is best for
all of them. Like Align Your Steps (Sabour et al. 2024) and GITS (Chen et al. 2024), calibration
asks the model itself: it runs the task once with many calls (the reference), then moves the
``steps - 1`` free grid points (the first is always T, the last 0) to make the few-call outputs
match the reference outputs from the same noise, path by path (Nelder-Mead on the log of the mean
squared difference over the outputs' mean square about their mean). It needs no data and no closed form, only the
model's own trajectories; the result goes into ``composer.sampler.logsnr_points``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.grids import LOGSNR_RANGE
from jen_composer.diffusion.settings import SamplerSettings

Run = Callable[[SamplerSettings], torch.Tensor]  # the task's outputs [B, ...] for these settings, fixed noise


@dataclass(frozen=True)
class Calibration:
    points: tuple[float, ...]  # logsnr_points for ``steps`` calls, rising (falling level)
    error: float  # mean squared distance to the reference over the reference's scale, calibrated grid
    start_error: float  # the same with the even log-SNR grid
    evaluations: int  # sampler runs the search took (each ``steps`` calls)


def even_points(steps: int) -> list[float]:
    """The ``logsnr`` rule's free points for ``steps`` calls (the search's first start)."""
    return [float(v) for v in np.linspace(*LOGSNR_RANGE, steps)[1:]]


def relative_distance(out: torch.Tensor, reference: torch.Tensor) -> float:
    """Mean squared distance of ``out`` to ``reference`` (same noise, row by row) over the reference's
    mean square about its mean: 0 is the reference itself, 1 is as far as the outputs' own scale."""
    scale = float(((reference - reference.mean()) ** 2).flatten(1).sum(1).mean())
    if not math.isfinite(scale) or scale <= 0:
        raise ConfigError("calibration: the reference outputs are constant (or not finite): nothing to match")
    return float(((out - reference) ** 2).flatten(1).sum(1).mean()) / scale


def calibrate(run: Run, settings: SamplerSettings, reference_steps: int = 200, max_evaluations: int = 400) -> Calibration:
    """Calibrated ``logsnr_points`` for ``settings.steps`` calls of ``settings.name`` on the task ``run`` samples."""
    from scipy.optimize import minimize

    if settings.steps < 2 or settings.name == "ddpm":
        raise ConfigError(f"calibration: {settings.name} with {settings.steps} steps has no free grid points to place")
    reference = run(settings.replace(steps=reference_steps, logsnr_points=()))
    relative_distance(reference, reference)  # refuses a constant reference before the search
    count = 0

    def error(points: np.ndarray) -> float:
        nonlocal count
        count += 1
        try:
            out = run(settings.replace(logsnr_points=tuple(float(v) for v in points)))
        except ConfigError:  # points too close to fit distinct integer levels
            return math.inf
        return relative_distance(out, reference)

    def objective(points: np.ndarray) -> float:
        return math.log(max(error(points), 1e-30))

    start = np.array(even_points(settings.steps))
    start_error = error(start)
    best = None
    low, high = LOGSNR_RANGE
    for first in (start, np.linspace(low + 0.5, high - 1.0, settings.steps)[1:]):  # the rule's grid, and one shifted
        found = minimize(objective, first, method="Nelder-Mead",
                         options={"maxfev": max_evaluations // 2, "xatol": 1e-3, "fatol": 1e-4})
        if best is None or found.fun < best.fun:
            best = found
    assert best is not None
    points = tuple(sorted(float(v) for v in best.x))
    final = math.exp(best.fun)
    if final >= start_error:  # never worse than the rule it started from
        points, final = tuple(float(v) for v in start), start_error
    return Calibration(points, final, start_error, count)
