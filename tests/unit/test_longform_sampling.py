"""Long-form sampling on the exact Gaussian denoiser: 3 windows, overlap conditioning, kept tracks exact.

With a linear (posterior-mean) denoiser a window's output is affine in its noise, so zero noise
gives its exact mean: the free frames of a window must then equal the Gaussian conditional mean
given the overlap the previous window made (and the kept track), which is far from the mean
without the overlap. So a loop that ignored the overlap would fail here.
"""

from __future__ import annotations

import torch

from jen_composer.diffusion.generate import sample
from jen_composer.diffusion.request import GenerationRequest, make_plan
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.longform import sample_windows
from jen_composer.inference.windows import Window, plan_windows
from tests.fakes.gaussian import correlated_tracks

K, D, LW, OVERLAP, TOTAL = 4, 2, 6, 2, 14
ROLES = ["generate", "generate", "keep", "absent"]
SETTINGS = SamplerSettings(text_guidance=1.0, stem_guidance=1.0)  # the default sampler (25 calls); no text here


def _setup():  # noqa: ANN202
    schedule = NoiseSchedule(1000, "cosine", "v")
    dist = correlated_tracks(K, D, LW, rho=0.9, generator=torch.Generator().manual_seed(0))
    piece = torch.randn(D, TOTAL, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def kept(win: Window) -> torch.Tensor:
        known = torch.zeros(K, D, win.length, dtype=torch.float64)
        known[2] = piece[:, win.start:win.end]
        return known

    return schedule, dist, piece, kept


def _run_all(schedule, dist, kept, roles=ROLES, known_mask=None):  # noqa: ANN001, ANN202
    requests, outputs, calls = [], [], []
    branches = dist.branches(schedule)

    def run(req: GenerationRequest, step) -> torch.Tensor:  # noqa: ANN001
        calls.append(req.seed)
        requests.append(req)
        return sample(branches, schedule, req, make_plan(req, K, D, schedule.T, "cpu"), torch.float64, progress=step)

    def on_window(win: Window, latents: torch.Tensor, changed: torch.Tensor) -> None:
        outputs.append((win, latents.clone(), changed.clone()))

    steps = []
    sample_windows(run, plan_windows(TOTAL, LW, OVERLAP), "", roles, SETTINGS, 3, kept, on_window,
                   known_mask=known_mask, progress=lambda a, b: steps.append((a, b)))
    return requests, outputs, calls, steps


def _flat(frames: list[int], track: int) -> list[int]:
    """Element indices of ``frames`` of ``track`` in GaussianTracks' [k, d, L] flattening."""
    return [track * D * LW + d * LW + f for d in range(D) for f in frames]


def test_three_windows_keep_the_kept_track_exact_and_continue_the_overlap() -> None:
    schedule, dist, piece, kept = _setup()
    requests, outputs, calls, steps = _run_all(schedule, dist, kept)
    assert [w.start for w, _, _ in outputs] == [0, 4, 8] and len(calls) == 3 and len(set(calls)) == 3
    for (win, out, _), prev in zip(outputs, [None, *outputs[:-1]], strict=True):
        assert torch.equal(out[2], piece[:, win.start:win.end])  # kept: bit-exact in every window
        assert not out[3].any()  # absent stays zeros
        if prev is not None:
            shift = win.start - prev[0].start
            assert torch.equal(out[:2, :, :win.known], prev[1][:2, :, shift:shift + win.known])
    assert steps[-1][0] == steps[-1][1] == 3 * SETTINGS.steps  # one bar over the windows, ending full
    assert [s for s, _ in steps] == sorted(s for s, _ in steps)


def test_a_window_follows_the_overlap_as_the_exact_conditional_mean() -> None:
    schedule, dist, _, kept = _setup()
    requests, outputs, _, _ = _run_all(schedule, dist, kept)
    req = requests[1]  # window 1: tracks 0, 1 are region edits with the overlap known
    assert req.roles[:2] == ["keep", "keep"] and req.known_mask is not None
    zero = sample(dist.branches(schedule), schedule, req, make_plan(req, K, D, schedule.T, "cpu"), torch.float64,
                  noise_source=lambda like: torch.zeros_like(like))[0]  # the exact mean of the window's output
    free = list(range(OVERLAP, LW))
    target = _flat(free, 0) + _flat(free, 1)
    known = _flat(list(range(OVERLAP)), 0) + _flat(list(range(OVERLAP)), 1) + _flat(list(range(LW)), 2)
    values = req.known[0].double().flatten()
    sigma, mu = dist.cov, dist.mean
    gain = torch.linalg.solve(sigma[known][:, known], sigma[known][:, target]).T
    exact = mu[target] + gain @ (values[known] - mu[known])
    sd = (sigma[target][:, target] - gain @ sigma[known][:, target]).diag().sqrt()
    got = zero.flatten()[target]
    assert ((got - exact) / sd).abs().max() < 0.02
    only_kept = _flat(list(range(LW)), 2)  # what the window would know without the overlap
    g2 = torch.linalg.solve(sigma[only_kept][:, only_kept], sigma[only_kept][:, target]).T
    without = mu[target] + g2 @ (values[only_kept] - mu[only_kept])
    assert ((without - exact) / sd).abs().max() > 0.5  # the overlap really moves the window


def test_a_region_moves_only_its_windows_and_its_tail_is_carried() -> None:
    schedule, dist, piece, kept = _setup()
    mask = torch.ones(K, TOTAL, dtype=torch.bool)
    mask[2, 7:9] = False  # frames 7, 8: in window 1 (4..10) only; frame 8 lies in its overlap with window 2 (8..14)
    _, outputs, calls, _ = _run_all(schedule, dist, kept, ["absent", "absent", "keep", "absent"], mask)
    assert len(calls) == 1  # windows 0 and 2 have nothing to move: no sampler call
    (w0, o0, c0), (w1, o1, c1), (w2, o2, c2) = outputs
    assert torch.equal(o0[2], piece[:, 0:6]) and not bool(c0.any())
    assert not torch.equal(o1[2][:, 3:5], piece[:, 7:9]) and bool(c1[2])  # frames 7, 8 regenerated
    assert torch.equal(o1[2][:, [0, 1, 2, 5]], piece[:, [4, 5, 6, 9]])  # the rest of the window exact
    assert torch.equal(o2[2][:, :2], o1[2][:, 4:6])  # window 2 carries the regenerated tail of its overlap
    assert torch.equal(o2[2][:, 2:], piece[:, 10:14])
