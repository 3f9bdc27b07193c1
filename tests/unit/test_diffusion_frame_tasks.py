"""Frame-mask tasks (``composer.frame_timesteps``): the regenerated spans follow their closed form
(>= 100k draws, 0.5 pp per cell), and the frame levels built from them keep the task semantics."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from jen_composer.core.errors import ConfigError
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.frame_tasks import (
    SPAN_KINDS,
    frame_mask_levels,
    realised_frame_shares,
    regenerated_spans,
    span_probabilities,
    track_levels,
    validation_frame_tasks,
)
from jen_composer.diffusion.tasks import TaskMixture, generated_mask

N, T, TOLERANCE = 120_000, 1000, 0.005


@pytest.mark.parametrize("length", [2, 8])
def test_regenerated_spans_follow_the_closed_form(length: int) -> None:
    expected = span_probabilities(length)
    assert abs(sum(expected.values()) - 1.0) < 1e-12
    kind, start, stop = regenerated_spans(N, length, make_generator(length))
    assert bool(((stop - start >= 1) & (stop - start <= length - 1)).all())  # something known, something regenerated
    seen = Counter(zip([SPAN_KINDS[i] for i in kind.tolist()], start.tolist(), stop.tolist(), strict=True))
    assert set(seen) <= set(expected)
    off = {cell: (seen[cell] / N, round(p, 4)) for cell, p in expected.items() if abs(seen[cell] / N - p) > TOLERANCE}
    assert not off, f"empirical vs closed form: {off}"
    frames = torch.arange(length)
    regen = ((frames >= start[:, None]) & (frames < stop[:, None])).float().mean(0)  # per frame
    closed = torch.tensor([sum(p for (_, a, b), p in expected.items() if a <= f < b) for f in range(length)],
                          dtype=torch.float64)
    assert torch.allclose(regen.double(), closed, atol=TOLERANCE)


def test_frame_levels_mask_generated_tracks_only_at_the_configured_share() -> None:
    n, k, length, share = 40_000, 4, 6, 0.3
    t = TaskMixture((0.25, 0.25, 0.25, 0.25), paper_mix=0.5).sample(n, T, make_generator(0))
    frames = frame_mask_levels(t, length, share, T, make_generator(1))
    assert frames.shape == (n, k, length)
    assert torch.equal(track_levels(frames), t)  # every track keeps its role and level
    changed = (frames != t[..., None]).any(-1)
    assert not bool((changed & ~generated_mask(t, T)).any())  # kept / absent tracks untouched
    assert bool((frames[frames != t[..., None].expand_as(frames)] == 0).all())  # masked frames are known (t=0)
    shares = realised_frame_shares(frames, T)
    assert abs(float(shares["tasks/frame_masked"]) - share) < TOLERANCE
    assert 0.0 < float(shares["tasks/frame_known"]) < 1.0
    gen = generated_mask(t, T).sum(1)
    masked = changed.any(1)
    several = masked & (gen > 1)
    every = (changed.sum(1) == gen)[several].float().mean()
    assert abs(float(every) - 0.5) < 0.02  # every generated track (1/2), else just one
    assert torch.equal(frame_mask_levels(t, length, 0.0, T, make_generator(1)), t[..., None].expand(n, k, length))
    with pytest.raises(ConfigError, match="frame_mask_share"):
        frame_mask_levels(t, length, 1.5, T, make_generator(1))
    with pytest.raises(ConfigError, match="at least 2"):
        frame_mask_levels(t, 1, share, T, make_generator(1))


def test_validation_frame_tasks_mask_only_generated_tracks() -> None:
    t = torch.tensor([[250, 250, 0, 1000]])  # generated, generated, kept, absent (e.g. the mix)
    tasks = dict(validation_frame_tasks(t, 8, T))
    assert set(tasks) == {"continue", "inpaint"}
    assert torch.equal(tasks["continue"][0, 0], torch.tensor([0, 0, 0, 0, 250, 250, 250, 250]))
    assert torch.equal(tasks["inpaint"][0, 1], torch.tensor([0, 0, 250, 250, 250, 250, 0, 0]))
    for levels in tasks.values():
        assert torch.equal(levels[0, 2:], t[0, 2:, None].expand(2, 8))


def test_config_task_shares_name_the_frame_mask_share_only_with_the_option() -> None:
    from jen_composer.cli.config_cmd import task_shares_markdown
    from jen_composer.core.config import compose

    on = task_shares_markdown(compose(None, ["composer.frame_timesteps=true", "curriculum.frame_mask_share=0.4"]))
    assert "Frame masks (composer.frame_timesteps): 40.0%" in on
    assert "Frame masks" not in task_shares_markdown(compose(None, ["curriculum.frame_mask_share=0.4"]))
