"""The tasks that start from the mix (separation, extraction, arrangement) are drawn as often as their
closed forms say (>= 100k samples, 0.5 pp), the mix is never generated, and without the mix track the
sampler draws exactly what it drew before the option existed."""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.errors import ConfigError
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.tasks import TaskMixture, TaskType, realised_shares, role_counts, task_types

N, T, K = 120_000, 1000, 4
TOLERANCE = 0.005  # 0.5 percentage points
SHARES = {"separation": 0.15, "extraction": 0.1, "arrangement": 0.2}


def _mixture(**kw: float) -> TaskMixture:
    return TaskMixture((0.1, 0.2, 0.3, 0.4), paper_mix=0.5, condition_only=1, **{**SHARES, **kw})


def _joint_empirical(t: torch.Tensor) -> dict[tuple[TaskType, bool], float]:
    counts = role_counts(t[:, :K], T)
    given = (t[:, K] == 0).long()
    codes = torch.bincount((counts[:, 0] * (K + 1) + counts[:, 1]) * 2 + given, minlength=2 * (K + 1) ** 2)
    return {(tt, g): int(codes[(tt.generated * (K + 1) + tt.kept) * 2 + int(g)]) / len(t)
            for tt in task_types(K) for g in (False, True)}


def test_mix_task_shares_match_their_closed_forms() -> None:
    mixture = _mixture()
    t = mixture.sample(N, T, make_generator(21))
    assert t.shape == (N, K + 1)
    assert set(t[:, K].unique().tolist()) == {0, T}  # the mix: given or absent, never generated
    expected = mixture.joint_type_probabilities()
    assert sum(expected.values()) == pytest.approx(1.0)
    # separation and extraction are single types; arrangement spreads over 1..k-1 kept stems
    assert expected[(TaskType(K, 0, 0), True)] == pytest.approx(0.15)
    assert expected[(TaskType(1, 0, K - 1), True)] == pytest.approx(0.1)
    assert expected[(TaskType(2, 2, 0), True)] == pytest.approx(0.2 / 3)
    assert expected[(TaskType(2, 1, 1), True)] == 0.0  # no stem is absent while the mix is given, except in extraction
    empirical = _joint_empirical(t)
    off = {(tt.name, g): (round(empirical[(tt, g)], 4), round(p, 4)) for (tt, g), p in expected.items()
           if abs(empirical[(tt, g)] - p) > TOLERANCE}
    assert not off, f"empirical vs closed form: {off}"
    logged = realised_shares(t, T, K)
    for name, p in mixture.condition_task_probabilities().items():
        assert abs(logged[f"tasks/share_{name}"].item() - p) < TOLERANCE, name
    assert abs(logged["tasks/conditions_given"].item() - mixture.condition_share) < TOLERANCE


def test_without_the_mix_track_the_old_draws_are_unchanged() -> None:
    old = TaskMixture((0.1, 0.2, 0.3, 0.4), paper_mix=0.5)
    ignored = TaskMixture((0.1, 0.2, 0.3, 0.4), paper_mix=0.5, **SHARES)  # shares without a mix track do nothing
    assert torch.equal(old.sample(512, T, make_generator(4)), ignored.sample(512, T, make_generator(4)))
    assert ignored.type_probabilities() == old.type_probabilities()
    with_mix = _mixture().sample(512, T, make_generator(4))
    absent = with_mix[:, K] == T
    assert torch.equal(with_mix[absent, :K], old.sample(512, T, make_generator(4))[absent])  # same draws where the mix is absent


def test_mix_task_shares_are_validated() -> None:
    with pytest.raises(ConfigError, match="separation/extraction/arrangement"):
        _mixture(separation=0.6, extraction=0.6)
    with pytest.raises(ConfigError, match="separation/extraction/arrangement"):
        _mixture(arrangement=-0.1)
    with pytest.raises(ConfigError, match="arrangement"):
        TaskMixture((1.0,), condition_only=1, arrangement=0.5)
    only_separation = TaskMixture((1.0,), condition_only=1, separation=1.0).sample(100, T, make_generator(0))
    assert bool((only_separation[:, 1] == 0).all()) and bool(((only_separation[:, 0] > 0) & (only_separation[:, 0] < T)).all())
