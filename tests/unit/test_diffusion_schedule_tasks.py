"""Noise schedules, per-track noising, the masked loss and task tokens (task shares: test_diffusion_task_shares)."""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.seed import make_generator
from jen_composer.diffusion.objective import masked_loss, noise_tracks
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.tasks import join_task_prompt, task_prefix, task_prompts


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


def test_task_tokens() -> None:
    tracks = ["bass", "drums", "instrument", "melody"]
    assert task_prefix(tracks, [True, True, False, False]) == "[bass & drums generation]"
    assert task_prefix(tracks, [False, False, False, True]) == "[melody generation]"
    assert join_task_prompt("[bass generation]", "funky", enabled=False) == "funky"
    out = task_prompts(["a", "b"], torch.tensor([[0, 1, 0, 1], [1, 1, 1, 1]]).bool(), tracks)
    assert out == ["[drums & melody generation] a", "[bass & drums & instrument & melody generation] b"]
