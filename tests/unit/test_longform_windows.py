"""The window plan, the length checks and the crossfade join of long pieces."""

from __future__ import annotations

import numpy as np
import pytest

from jen_composer.core.config.longform import LongformConfig
from jen_composer.core.errors import ConfigError
from jen_composer.inference.stitch import Stitcher
from jen_composer.inference.windows import check_longform, check_seconds, plan_windows


@pytest.mark.parametrize(("total", "window", "overlap"), [(14, 6, 2), (15, 6, 2), (1000, 250, 50), (251, 250, 50)])
def test_windows_cover_the_piece_and_each_knows_what_came_before(total: int, window: int, overlap: int) -> None:
    wins = plan_windows(total, window, overlap)
    assert wins[0].start == 0 and wins[0].known == 0 and wins[-1].end == total
    assert all(w.length == window for w in wins)
    for prev, win in zip(wins, wins[1:]):
        assert win.start > prev.start and win.known == prev.end - win.start >= overlap


def test_a_piece_that_fits_is_one_window() -> None:
    assert [(w.start, w.end, w.known) for w in plan_windows(200, 250, 50)] == [(0, 200, 0)]


@pytest.mark.parametrize("seconds", [0, -1.0, float("nan"), float("inf"), 601.0])
def test_lengths_outside_the_limit_are_refused_in_one_line(seconds: float) -> None:
    with pytest.raises(ConfigError) as err:
        check_seconds(seconds, 600.0)
    assert "\n" not in str(err.value) and "seconds" in str(err.value)
    assert check_seconds(600.0, 600.0) == 600.0


@pytest.mark.parametrize(("key", "value"), [("window_seconds", 0.0), ("overlap_seconds", 10.0),
                                            ("overlap_seconds", 0.0), ("crossfade_seconds", 3.0)])
def test_a_bad_longform_config_is_named(key: str, value: float) -> None:
    cfg = LongformConfig()
    setattr(cfg, key, value)
    with pytest.raises(ConfigError, match=f"composition.longform.{key}"):
        check_longform(cfg)


def test_the_join_fades_in_the_middle_of_the_overlap_only() -> None:
    a, b = np.full((1, 100), 1.0, np.float32), np.full((1, 100), 3.0, np.float32)
    join = Stitcher(1, 160, crossfade=20)
    join.add(0, a)
    join.add(60, b)  # overlap 60..100, fade 70..90
    out = join.out[0]
    assert (out[:70] == 1.0).all() and (out[90:] == 3.0).all()
    assert np.all(np.diff(out[69:91]) > 0) and 1.0 < out[80] < 3.0
    with pytest.raises(ValueError, match="gap"):
        join.add(200, b)
