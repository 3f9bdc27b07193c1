"""95% intervals for result tables: a t-interval over training seeds and a paired bootstrap.

Why two: a table row is a mean over a few training seeds (the unit that varies between reruns), so
its interval is Student's t over the per-seed values. A comparison of two systems evaluated on the
same clips with the same seeds is paired, so its interval comes from resampling seeds and clips of
the per-clip differences (a two-level bootstrap), which keeps the pairing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int  # values that entered (finite ones)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    def excludes_zero(self) -> bool:
        return bool(np.isfinite(self.low) and (self.low > 0 or self.high < 0))

    def to_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


NAN_INTERVAL = Interval(float("nan"), float("nan"), float("nan"), 0)


def t_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean and Student-t interval of the finite ``values`` (nan bounds with fewer than two)."""
    from scipy.stats import t

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return NAN_INTERVAL
    mean = float(x.mean())
    if x.size < 2:
        return Interval(mean, float("nan"), float("nan"), 1)
    half = float(t.ppf(0.5 + level / 2.0, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return Interval(mean, mean - half, mean + half, int(x.size))


def paired_bootstrap(diffs: np.ndarray, level: float = 0.95, samples: int = 2000, seed: int = 0) -> Interval:
    """Mean of paired differences ``[seeds, clips]`` (nan = missing) and its two-level bootstrap interval.

    Each replicate draws seeds with replacement, then clips with replacement (the same clips for every
    drawn seed, since the clips are shared), and averages the finite differences.
    """
    d = np.atleast_2d(np.asarray(diffs, dtype=float))
    finite = np.isfinite(d)
    if not finite.any():
        return NAN_INTERVAL
    rng = np.random.default_rng(seed)
    n_seeds, n_clips = d.shape
    values = np.where(finite, d, 0.0)
    stats = np.empty(samples)
    for b in range(samples):
        rows = rng.integers(0, n_seeds, n_seeds)
        cols = rng.integers(0, n_clips, n_clips)
        w = finite[np.ix_(rows, cols)]
        stats[b] = values[np.ix_(rows, cols)].sum() / max(1, w.sum())
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return Interval(float(d[finite].mean()), float(low), float(high), int(finite.sum()))
