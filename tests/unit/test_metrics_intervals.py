"""The 95% intervals of the result tables: Student-t over seeds and the paired two-level bootstrap."""

from __future__ import annotations

import numpy as np

from jen_composer.metrics.intervals import paired_bootstrap, t_interval


def test_t_interval_matches_the_textbook_formula_and_skips_nan() -> None:
    iv = t_interval([1.0, 2.0, 3.0, float("nan")])
    assert iv.n == 3 and iv.mean == 2.0
    assert np.isclose(iv.half_width, 4.302652729911275 * 1.0 / np.sqrt(3))  # t_{0.975, 2} * sd / sqrt(n)
    one = t_interval([5.0])
    assert one.mean == 5.0 and np.isnan(one.low) and t_interval([]).n == 0


def test_paired_bootstrap_separates_a_real_difference_from_none() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 1.0, (3, 60))
    shifted = paired_bootstrap(noise + 0.8, samples=500)
    assert shifted.excludes_zero() and shifted.low > 0.3
    null = paired_bootstrap(noise - noise.mean(), samples=500)
    assert not null.excludes_zero() and null.low < 0 < null.high
    holes = noise + 0.8
    holes[0, :30] = np.nan  # missing scores are left out, not counted as 0
    assert paired_bootstrap(holes, samples=200).n == 150
