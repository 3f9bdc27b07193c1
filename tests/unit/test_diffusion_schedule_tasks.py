"""Noise schedules, per-track noising, the task sampler's distributions and task tokens."""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.errors import ConfigError
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.objective import masked_loss, noise_tracks
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.tasks import (
    generated_mask,
    join_task_prompt,
    sample_task_timesteps,
    task_prefix,
    task_prompts,
)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedule_endpoints_and_monotone(kind: str) -> None:
    s = NoiseSchedule(1000, kind)
    ab = s.alpha_bar
    assert ab[0] == 1.0 and ab[1000] == 0.0  # clean condition / absent carries nothing
    assert bool((ab[1:] < ab[:-1]).all())
    assert 0 < ab[999] < 1e-5  # generation starts at T-1 from (practically) pure noise
    assert 0.999 < ab[1] < 1.0


def test_per_track_noising_uses_each_tracks_level() -> None:
    s = NoiseSchedule(100, "linear")
    x0 = torch.ones(2, 3, 2, 5)
    t = torch.tensor([[0, 50, 100], [100, 0, 7]])
    x_t, noise = noise_tracks(s, x0, t, make_generator(0))
    assert torch.equal(x_t[0, 0], x0[0, 0]) and torch.equal(x_t[1, 1], x0[1, 1])  # t=0: untouched
    assert torch.allclose(x_t[0, 2], noise[0, 2]) and torch.allclose(x_t[1, 0], noise[1, 0])  # t=T: pure noise
    a = s.alpha_bar[50].sqrt().float()
    assert torch.allclose(x_t[0, 1], a * x0[0, 1] + (1 - a**2).sqrt() * noise[0, 1])


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_target_round_trips_to_x0(prediction: str) -> None:
    s = NoiseSchedule(1000, "cosine", prediction)
    g = make_generator(1)
    x0 = torch.randn(4, 2, 3, 8, generator=g, dtype=torch.float64)
    t = torch.tensor([[1, 500], [999, 30], [250, 998], [700, 2]])
    x_t, noise = noise_tracks(s, x0, t, g)
    rec = s.to_x0(s.target(x0, noise, t), x_t, t)
    assert torch.allclose(rec, x0, atol=1e-6)
    assert torch.allclose(s.eps_from_x0(x0, x_t, t), noise, atol=1e-6)


def test_loss_ignores_condition_and_absent_tracks() -> None:
    t = torch.tensor([[0, 10, 100]])
    pred, target = torch.zeros(1, 3, 2, 4), torch.zeros(1, 3, 2, 4)
    pred[0, 0] += 5.0
    pred[0, 2] -= 7.0
    assert masked_loss(pred, target, t, 100).item() == 0.0
    pred[0, 1] += 1.0
    assert masked_loss(pred, target, t, 100).item() == pytest.approx(1.0)


def test_task_sampler_paper_mode_distribution() -> None:
    T, k, n = 1000, 4, 20000
    g = make_generator(3)
    stages = torch.randint(1, k + 1, (n,), generator=make_generator(4))
    t = sample_task_timesteps(n, k, stages, T, g, "paper", condition_probability=0.5)
    gen = generated_mask(t, T)
    assert torch.equal(gen.sum(1), stages)  # exactly s generated tracks per row
    levels = torch.where(gen, t, torch.zeros_like(t))
    shared = levels.max(1).values
    assert bool(((levels == shared[:, None]) | ~gen).all())  # generated tracks share one t
    assert 1 <= int(shared.min()) and int(shared.max()) <= T - 1
    assert abs(shared.float().mean().item() - T / 2) < 15  # ~U{1..T-1}
    others = t[~gen]
    assert set(others.unique().tolist()) <= {0, T}
    assert abs((others == 0).float().mean().item() - 0.5) < 0.02
    per_track = gen.float().mean(0)  # every track equally likely to be generated
    assert float(per_track.max() - per_track.min()) < 0.03


def test_task_sampler_modes_and_seeding() -> None:
    T, k = 50, 3
    a = sample_task_timesteps(500, k, 2, T, make_generator(0), "independent")
    b = sample_task_timesteps(500, k, 2, T, make_generator(0), "independent")
    assert torch.equal(a, b)
    gen = generated_mask(a, T)
    assert bool((gen.sum(1) == 2).all())
    pairs = a[gen].view(500, 2)
    assert (pairs[:, 0] != pairs[:, 1]).float().mean() > 0.9  # own level per generated track
    j = sample_task_timesteps(500, k, 1, T, make_generator(0), "joint_only")
    assert bool((j == j[:, :1]).all()) and bool(generated_mask(j, T).all())
    with pytest.raises(ConfigError, match="composer.task_mode"):
        sample_task_timesteps(2, k, 1, T, make_generator(0), "nope")
    with pytest.raises(ConfigError, match="num_generate"):
        sample_task_timesteps(2, k, 4, T, make_generator(0))


def test_task_tokens() -> None:
    tracks = ["bass", "drums", "instrument", "melody"]
    assert task_prefix(tracks, [True, True, False, False]) == "[bass & drums generation]"
    assert task_prefix(tracks, [False, False, False, True]) == "[melody generation]"
    assert join_task_prompt("[bass generation]", "funky", enabled=False) == "funky"
    out = task_prompts(["a", "b"], torch.tensor([[0, 1, 0, 1], [1, 1, 1, 1]]).bool(), tracks)
    assert out == ["[drums & melody generation] a", "[bass & drums & instrument & melody generation] b"]
