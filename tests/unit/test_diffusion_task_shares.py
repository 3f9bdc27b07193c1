"""The task samplers draw each task type as often as its closed form says (>= 100k samples, 0.5 pp).

The closed forms are computed by counting arrangements (`paper_type_probabilities`), independently
of how the samplers draw, so a sampler that deviates from section 5.1 or 4.3 fails here.
"""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.errors import ConfigError
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.tasks import (
    TaskMixture,
    TaskType,
    generated_mask,
    paper_timesteps,
    paper_type_probabilities,
    realised_shares,
    role_counts,
    role_timesteps,
    task_types,
)
from jen_composer.training.curriculum import stage_probabilities

N, T, K = 120_000, 1000, 4
TOLERANCE = 0.005  # 0.5 percentage points


def _empirical(t: torch.Tensor, k: int) -> dict[TaskType, float]:
    counts = role_counts(t[:, :k], T)
    codes = torch.bincount(counts[:, 0] * (k + 1) + counts[:, 1], minlength=(k + 1) ** 2)  # absent = k - g - c
    return {tt: int(codes[tt.generated * (k + 1) + tt.kept]) / len(t) for tt in task_types(k)}


def _assert_shares(t: torch.Tensor, expected: dict[TaskType, float], k: int = K) -> None:
    assert abs(sum(expected.values()) - 1.0) < 1e-9
    empirical = _empirical(t, k)
    assert abs(sum(empirical.values()) - 1.0) < 1e-9  # every row is one of the listed types
    off = {tt.name: (round(empirical[tt], 4), round(p, 4)) for tt, p in expected.items() if abs(empirical[tt] - p) > TOLERANCE}
    assert not off, f"empirical vs closed form: {off}"


def _assert_rows_well_formed(t: torch.Tensor) -> None:
    gen = generated_mask(t, T)
    assert bool(gen.any(1).all())  # at least one generated track per row
    level = torch.where(gen, t, torch.zeros_like(t)).max(1).values
    assert bool(((t == level[:, None]) | ~gen).all())  # generated tracks share one t
    assert 1 <= int(level.min()) and int(level.max()) <= T - 1
    assert abs(level.float().mean().item() - T / 2) < 5  # ~U{1..T-1}
    assert set(t[~gen].unique().tolist()) <= {0, T}
    per_track = gen.float().mean(0)  # no track favoured
    assert float(per_track.max() - per_track.min()) < 0.01


def test_paper_closed_form_matches_section_5_1() -> None:
    p = paper_type_probabilities(K)
    for tt in (TaskType(4, 0, 0), TaskType(1, 0, 3), TaskType(1, 3, 0)):  # jointly / alone / given 3 kept
        assert p[tt] == pytest.approx(1 / 27)
    assert p[TaskType(2, 1, 1)] == pytest.approx(6 / 27)
    assert paper_type_probabilities(1) == {TaskType(1, 0, 0): 1.0}


def test_paper_sampler_shares() -> None:
    t = paper_timesteps(N, K, T, make_generator(0))
    _assert_rows_well_formed(t)
    _assert_shares(t, paper_type_probabilities(K))


@pytest.mark.parametrize("stage", [1, 2, 3, 4])
def test_each_curriculum_stage_generates_s_and_keeps_the_rest(stage: int) -> None:
    mixture = TaskMixture(tuple(1.0 if s == stage else 0.0 for s in range(1, K + 1)), paper_mix=0.0)
    t = mixture.sample(N, T, make_generator(stage))
    _assert_rows_well_formed(t)
    _assert_shares(t, mixture.type_probabilities())
    assert mixture.type_probabilities()[TaskType(stage, K - stage, 0)] == 1.0
    assert not bool((t == T).any())  # section 4.3: the other k - s tracks are kept, never absent


@pytest.mark.parametrize("step", [0, 500, 1000])
def test_progressive_blend_shares(step: int) -> None:
    mixture = TaskMixture(tuple(stage_probabilities("progressive", step, K, 1000, 0.05)), paper_mix=0.5)
    t = mixture.sample(N, T, make_generator(10 + step))
    _assert_rows_well_formed(t)
    _assert_shares(t, mixture.type_probabilities())


def test_blend_closed_form_is_the_weighted_sum() -> None:
    probs = (0.1, 0.2, 0.3, 0.4)
    mixture = TaskMixture(probs, paper_mix=0.25)
    paper = paper_type_probabilities(K)
    shares = mixture.type_probabilities()
    assert shares[TaskType(4, 0, 0)] == pytest.approx(0.25 / 27 + 0.75 * 0.4)
    assert shares[TaskType(1, 0, 3)] == pytest.approx(0.25 * paper[TaskType(1, 0, 3)])  # only 5.1 leaves tracks absent
    assert TaskMixture(probs, paper_mix=1.0).type_probabilities() == pytest.approx(paper)


def test_sampling_is_seeded_and_validated() -> None:
    mixture = TaskMixture((0.1, 0.2, 0.3, 0.4), paper_mix=0.5)
    assert torch.equal(mixture.sample(64, T, make_generator(3)), mixture.sample(64, T, make_generator(3)))
    with pytest.raises(ConfigError, match="paper_mix"):
        TaskMixture((0.5, 0.5), paper_mix=1.5)
    with pytest.raises(ConfigError, match="stage probabilities"):
        TaskMixture((0.5, 0.6))
    with pytest.raises(ConfigError, match="tasks"):
        role_timesteps(3, 2, 4, K, T, make_generator(0))


def test_realised_shares_count_what_was_sampled() -> None:
    t = torch.tensor([[5, 5, 5, 5], [5, 0, T, T], [7, 0, 0, 0], [7, 7, 0, T]])
    shares = realised_shares(t, T, K)
    assert shares["tasks/generated"].item() == pytest.approx((4 + 1 + 1 + 2) / 4)
    assert shares["tasks/kept"].item() == pytest.approx(5 / 4) and shares["tasks/absent"].item() == pytest.approx(3 / 4)
    assert shares["tasks/share_gen4_keep0_absent0"].item() == 0.25
    assert shares["tasks/share_gen1_keep3_absent0"].item() == 0.25
    assert shares["tasks/share_gen3_keep1_absent0"].item() == 0.0
    assert sum(v.item() for k, v in shares.items() if "share_" in k) == pytest.approx(1.0)
