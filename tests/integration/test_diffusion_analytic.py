"""The samplers against exact answers: jointly Gaussian tracks with the closed-form denoiser.

One batched request per sampler holds three tasks (rows of n samples each): marginal p(x0)
(tracks 1, 2 absent), conditional p(x0 | x1 = c) (track 2 absent) and joint p(x0, x1). The
absent/kept latents hold a value far from the mean, so a leaking absent track or a drifting
condition moves the sample mean by several standard deviations; the tolerances sit well below
that and above the sampling noise (n samples) and the fast samplers' discretisation bias.
The last tests break the semantics on purpose and check that the same criteria fail.
"""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.seed import make_generator
from jen_composer.diffusion.generate import sample
from jen_composer.diffusion.request import GenerationRequest, make_plan
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from tests.fakes import GaussianTracks, correlated_tracks

K, D, L, T = 3, 2, 2, 1000
TASKS = {  # name: (roles, target tracks, given tracks)
    "marginal": (["generate", "absent", "absent"], [0], []),
    "conditional": (["generate", "keep", "absent"], [0], [1]),
    "joint": (["generate", "generate", "absent"], [0, 1], []),
}
MEAN_TOL = 0.12  # max |mean error| / sd; a leak or drift moves it by > 1
COV_TOL = {"ddpm": 0.09, "ddim": 0.12, "dpmpp2m": 0.10}  # relative Frobenius error of the covariance


pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


@pytest.fixture(scope="module")
def dist() -> GaussianTracks:
    return correlated_tracks(K, D, L, rho=0.9, generator=make_generator(0))


def condition_value(dist: GaussianTracks) -> torch.Tensor:
    """Latents far from the mean (+2.5 sd) for every track: what kept/absent tracks hold."""
    sd = dist.cov.diag().sqrt()
    return (dist.mean + 2.5 * sd).view(K, D, L)


def run_tasks(dist: GaussianTracks, schedule: NoiseSchedule, sampler: str, steps: int, n: int,
              branches=None, eta: float = 0.0) -> dict[str, tuple[float, float]]:  # noqa: ANN001
    """Per task: (max |mean error| / sd, relative covariance error) of n samples."""
    c = condition_value(dist)
    roles = [r for r, _, _ in TASKS.values() for _ in range(n)]
    known = c.expand(len(roles), K, D, L).clone()
    req = GenerationRequest([""] * len(roles), roles, SamplerSettings(name=sampler, steps=steps, text_guidance=1.0, stem_guidance=1.0, eta=eta, time_grid="uniform"), 11, known=known)
    plan = make_plan(req, K, D, schedule.T, "cpu")
    x = sample(branches or dist.branches(schedule), schedule, req, plan, torch.float64)
    out = {}
    for j, (name, (_, target, given)) in enumerate(TASKS.items()):
        xs = x[j * n:(j + 1) * n, target].reshape(n, -1)
        value = c.flatten()[dist.index(given)] if given else None
        mu, cov = dist.conditional(target, given, value)
        mean_err = ((xs.mean(0) - mu) / cov.diag().sqrt()).abs().max().item()
        cov_err = ((torch.cov(xs.T) - cov).norm() / cov.norm()).item()
        out[name] = (mean_err, cov_err)
    return out


def assert_matches(errors: dict[str, tuple[float, float]], cov_tol: float) -> None:
    for name, (mean_err, cov_err) in errors.items():
        assert mean_err < MEAN_TOL, f"{name}: mean off by {mean_err:.3f} sd ({errors})"
        assert cov_err < cov_tol, f"{name}: covariance off by {cov_err:.3f} ({errors})"


def test_ddpm_all_steps_matches_marginal_conditional_joint(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine", "v")
    assert_matches(run_tasks(dist, schedule, "ddpm", 0, n=1500), COV_TOL["ddpm"])


@pytest.mark.parametrize(("sampler", "steps", "kind"), [
    ("ddim", 50, "cosine"), ("ddim", 50, "linear"), ("dpmpp2m", 25, "cosine"), ("dpmpp2m", 25, "linear"),
])
def test_fast_samplers_match(dist: GaussianTracks, sampler: str, steps: int, kind: str) -> None:
    assert_matches(run_tasks(dist, NoiseSchedule(T, kind, "v"), sampler, steps, n=3000), COV_TOL[sampler])


def test_ddim_with_eta_one_is_stochastic_and_matches(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine")
    errors = run_tasks(dist, schedule, "ddim", 100, n=1500, eta=1.0)
    assert_matches(errors, 0.10)


# ---- the same criteria must fail when the timestep semantics are broken ---------------------------


def test_detects_a_condition_that_is_noised(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine")
    exact = dist.branches(schedule)
    gen = make_generator(7)

    def noised_condition(x_t, t, rows, use_text):  # noqa: ANN001, ANN202
        # the bug: the condition track is noised along with the generated ones (same level)
        level = t.clamp(max=T - 1).max(dim=1, keepdim=True).values.expand_as(t)
        cond = t == 0
        noisy = schedule.add_noise(x_t, torch.randn(x_t.shape, generator=gen, dtype=x_t.dtype), level)
        return exact(torch.where(cond[..., None, None], noisy, x_t), torch.where(cond, level, t), rows, use_text)

    errors = run_tasks(dist, schedule, "ddim", 25, n=500, branches=noised_condition)
    assert errors["conditional"][0] > 3 * MEAN_TOL


def test_detects_a_leaking_absent_track(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine")
    exact = dist.branches(schedule)
    c = condition_value(dist)

    def leaking(x_t, t, rows, use_text):  # noqa: ANN001, ANN202
        # absent tracks leak their latent at a 10% signal level
        a = schedule.alpha_bar[100].sqrt().item()
        absent = (t == T)[..., None, None]
        x_t = torch.where(absent, a * c + (1 - a * a) ** 0.5 * x_t, x_t)
        return exact(x_t, torch.where(t == T, torch.full_like(t, 900), t), rows, use_text)

    errors = run_tasks(dist, schedule, "ddim", 25, n=500, branches=leaking)
    assert errors["marginal"][0] > 3 * MEAN_TOL


def test_detects_a_wrong_alpha(dist: GaussianTracks) -> None:
    true = NoiseSchedule(T, "cosine")

    class WrongAlpha(NoiseSchedule):
        def coefficients(self, t, like):  # noqa: ANN001, ANN202
            a, s = super().coefficients(t, like)
            return a**2, s  # alpha_bar where sqrt(alpha_bar) belongs

    errors = run_tasks(dist, WrongAlpha(T, "cosine"), "ddim", 50, n=500, branches=dist.branches(true))
    worst = max(max(m / MEAN_TOL, c / COV_TOL["ddim"]) for m, c in errors.values())
    assert worst > 3


# ---- beyond the paper: re-imagine, inpaint, stem guidance, batching ----------------------------------


def test_reimagine_full_strength_is_fresh_generation_small_strength_stays(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine")
    c = condition_value(dist)
    n = 2000
    known = c.expand(n, K, D, L).clone()
    for strength, expect in [(1.0, "joint"), (0.02, "kept")]:
        reimagine = torch.zeros(n, K)
        reimagine[:, 1] = strength
        req = GenerationRequest([""] * n, ["generate", "keep", "absent"], SamplerSettings(name="ddim", steps=50, text_guidance=1.0, stem_guidance=1.0, eta=0.0, time_grid="logsnr"), 5, known=known, reimagine=reimagine)
        x = sample(dist.branches(schedule), schedule, req, make_plan(req, K, D, T, "cpu"), torch.float64)
        sd = dist.cov.diag().sqrt().view(K, D, L)
        if expect == "joint":  # the kept content is forgotten: (x0, x1) ~ joint
            mu, cov = dist.conditional([0, 1], [], None)
            xs = x[:, :2].reshape(n, -1)
            assert ((xs.mean(0) - mu) / cov.diag().sqrt()).abs().max() < MEAN_TOL
        else:  # barely noised: track 1 stays near its content, track 0 follows it
            assert ((x[:, 1] - c[1]) / sd[1]).abs().max() < 0.2
            mu, _ = dist.conditional([0], [1], c[1].flatten())
            assert ((x[:, 0].reshape(n, -1).mean(0) - mu) / sd[0].flatten()).abs().max() < 0.2


def test_inpainting_keeps_known_frames_and_fills_the_gap(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine")
    c = condition_value(dist)
    n = 1000
    known = c.expand(n, K, D, L).clone()
    mask = torch.ones(n, K, L, dtype=torch.bool)
    mask[:, 0, 1] = False  # regenerate frame 1 of track 0; track 1 kept whole
    req = GenerationRequest([""] * n, ["keep", "keep", "absent"], SamplerSettings(name="ddim", steps=50, text_guidance=1.0, stem_guidance=1.0, eta=0.0, time_grid="logsnr"), 2, known=known, known_mask=mask)
    x = sample(dist.branches(schedule), schedule, req, make_plan(req, K, D, T, "cpu"), torch.float64)
    assert torch.equal(x[:, 0, :, 0], known[:, 0, :, 0]) and torch.equal(x[:, 1], known[:, 1])
    assert torch.equal(x[:, 2], torch.zeros_like(x[:, 2]))  # absent comes back as zeros
    gap = torch.tensor([i for i in dist.index([0]).tolist() if i % L == 1])
    rest = torch.tensor([i for i in dist.index([0, 1]).tolist() if i not in gap.tolist()])
    sigma = dist.cov
    gain = torch.linalg.solve(sigma[rest][:, rest], sigma[rest][:, gap]).T
    mu = dist.mean[gap] + gain @ (c.flatten()[rest] - dist.mean[rest])
    sd = (sigma[gap][:, gap] - gain @ sigma[rest][:, gap]).diag().sqrt()
    filled = x[:, 0, :, 1]
    # replacement inpainting is approximate: near the exact conditional, far from the frame's own prior
    assert ((filled.mean(0) - mu) / sd).abs().max() < 0.5
    prior_sd = sigma[gap][:, gap].diag().sqrt()
    assert ((filled.mean(0) - dist.mean[gap]) / prior_sd).abs().min() > 2.0
    assert filled.std(0).min() > 0.3 * sd.min()  # and stays stochastic


def test_stem_guidance_pulls_towards_the_condition_and_scale_one_is_a_no_op(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine")
    c = condition_value(dist)
    n = 1000
    known = c.expand(n, K, D, L).clone()
    outs = {}
    for w in (1.0, 2.0):
        req = GenerationRequest([""] * n, ["generate", "keep", "absent"], SamplerSettings(name="ddim", steps=25, text_guidance=1.0, stem_guidance=w, eta=0.0, time_grid="logsnr"), 4, known=known)
        outs[w] = sample(dist.branches(schedule), schedule, req, make_plan(req, K, D, T, "cpu"), torch.float64)
    marg, _ = dist.conditional([0], [], None)
    cond, _ = dist.conditional([0], [1], c[1].flatten())
    shift1 = (outs[1.0][:, 0].reshape(n, -1).mean(0) - marg).norm()
    shift2 = (outs[2.0][:, 0].reshape(n, -1).mean(0) - marg).norm()
    assert abs(shift1 - (cond - marg).norm()) < 0.1 * (cond - marg).norm()
    assert shift2 > 1.3 * shift1


def test_batched_and_separate_cfg_branches_agree(dist: GaussianTracks) -> None:
    schedule = NoiseSchedule(T, "cosine")
    known = condition_value(dist).expand(64, K, D, L).clone()
    req = GenerationRequest([""] * 64, ["generate", "keep", "absent"], SamplerSettings(name="dpmpp2m", steps=10, text_guidance=3.0, stem_guidance=2.0, eta=0.0, time_grid="logsnr"), 9, known=known)
    plan = make_plan(req, K, D, T, "cpu")
    a = sample(dist.branches(schedule), schedule, req, plan, torch.float64, batched_cfg=True)
    b = sample(dist.branches(schedule), schedule, req, plan, torch.float64, batched_cfg=False)
    assert torch.allclose(a, b, atol=1e-10)
