"""Which lengths may be generated, and how a long piece is cut into overlapping windows (in frames).

Pure arithmetic, shared by the sampler loop (``longform.sample_windows``), the audio join
(``stitch.Stitcher``) and the checks every entry point runs (sessions, the pipeline, evaluate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jen_composer.core.errors import ConfigError


def check_seconds(seconds: float, max_seconds: float, what: str = "seconds") -> float:
    """Refuse a length <= 0, non-finite, or above ``composition.max_seconds``, in one line."""
    value = float(seconds)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{what}: {seconds} is not a length; give a number of seconds above 0")
    if value > float(max_seconds):
        raise ConfigError(f"{what}: {value:g} s is above composition.max_seconds = {float(max_seconds):g} s")
    return value


@dataclass(frozen=True)
class Window:
    """Latent frames ``[start, end)`` of the piece; ``known`` of them (from ``start``) were already
    made by the previous window and condition this one."""

    index: int
    start: int
    end: int
    known: int

    @property
    def length(self) -> int:
        return self.end - self.start


def check_longform(cfg: Any) -> None:
    """``composition.longform``: 0 < overlap < window and 0 <= crossfade <= overlap."""
    w, o, c = float(cfg.window_seconds), float(cfg.overlap_seconds), float(cfg.crossfade_seconds)
    if not w > 0:
        raise ConfigError(f"composition.longform.window_seconds: {w:g} must be above 0")
    if not 0 < o < w:
        raise ConfigError(f"composition.longform.overlap_seconds: {o:g} must lie strictly between 0 and the window ({w:g} s)")
    if not 0 <= c <= o:
        raise ConfigError(f"composition.longform.crossfade_seconds: {c:g} must lie in [0, overlap_seconds = {o:g}]")


def plan_windows(total: int, window: int, overlap: int) -> list[Window]:
    """Windows of ``window`` frames every ``window - overlap`` frames; the last one ends at ``total``
    (so it may overlap its predecessor by more). One window when the piece fits."""
    if total <= window:
        return [Window(0, 0, total, 0)]
    if not 0 < overlap < window:
        raise ConfigError(f"composition.longform: overlap of {overlap} frames must lie in 1..{window - 1}")
    stride = window - overlap
    starts = list(range(0, total - window, stride)) + [total - window]
    out, made = [], 0
    for i, start in enumerate(starts):
        out.append(Window(i, start, start + window, max(0, made - start)))
        made = start + window
    return out
