"""Curriculum stage probabilities: valid distributions, harder stages gain weight, floors hold."""

from __future__ import annotations

import pytest

from jen_composer.core.config import compose
from jen_composer.core.errors import ConfigError
from jen_composer.training.curriculum import stage_probabilities, task_mixture


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_progressive_is_a_distribution_with_floor(k: int) -> None:
    for step in range(0, 1200, 50):
        probs = stage_probabilities("progressive", step, k, 1000, 0.05)
        assert len(probs) == k and abs(sum(probs) - 1) < 1e-9
        assert min(probs) >= 0.05 - 1e-12


def test_progressive_shifts_to_harder_stages() -> None:
    expected = [sum(s * p for s, p in enumerate(stage_probabilities("progressive", step, 4, 1000, 0.05), 1))
                for step in range(0, 1001, 100)]
    assert all(b > a for a, b in zip(expected, expected[1:]))  # strictly harder over time
    start, end = stage_probabilities("progressive", 0, 4, 1000, 0.05), stage_probabilities("progressive", 1000, 4, 1000, 0.05)
    assert start[0] == max(start) and end[-1] == max(end)
    assert end[0] >= 0.05  # the easiest stage is still sampled at the end


def test_uniform_and_joint_only() -> None:
    assert stage_probabilities("uniform", 7, 4, 10, 0.0) == [0.25] * 4
    assert stage_probabilities("joint_only", 7, 4, 10, 0.0) == [0.0, 0.0, 0.0, 1.0]
    with pytest.raises(ConfigError, match="curriculum.schedule"):
        stage_probabilities("fancy", 0, 4, 10, 0.0)


@pytest.mark.parametrize(("row", "joint", "paper_mix"), [
    ("baseline", 1.0, 0.0),  # joint only: every sample generates all four tracks
    ("timestep_vector", 1 / 27, 1.0),  # section 5.1 only
    ("curriculum", None, 0.5),  # section 4.3 blended with 5.1
])
def test_ablation_rows_task_mixtures(row: str, joint: float | None, paper_mix: float) -> None:
    cfg = compose(f"experiments/ablations/{row}.yaml")
    mixture = task_mixture(cfg.curriculum, int(cfg.curriculum.ramp_steps), len(cfg.data.tracks))
    assert mixture.paper_mix == paper_mix
    shares = {tt.name: p for tt, p in mixture.type_probabilities().items()}
    if joint is not None:
        assert shares["gen4_keep0_absent0"] == pytest.approx(joint)
    else:
        assert cfg.curriculum.schedule == "progressive"
        assert shares["gen1_keep0_absent3"] == pytest.approx(0.5 / 27)  # absent tracks only come from 5.1
