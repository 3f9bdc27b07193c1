"""Curriculum stage probabilities: valid distributions, harder stages gain weight, floors hold."""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.errors import ConfigError
from jen_composer.training.curriculum import sample_stages, stage_probabilities


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


def test_sample_stages_follows_probabilities() -> None:
    g = torch.Generator().manual_seed(0)
    stages = sample_stages([0.1, 0.2, 0.3, 0.4], 20000, g)
    freq = torch.bincount(stages, minlength=5)[1:].float() / 20000
    assert torch.allclose(freq, torch.tensor([0.1, 0.2, 0.3, 0.4]), atol=0.015)
    assert int(stages.min()) >= 1 and int(stages.max()) <= 4
