"""A model with one shared timestep (Table 2's baseline) holds kept tracks by replacement: the
network sees every track at the generation level, never a clean one beside noisy ones; the kept
tracks come back bit-exact; the generated ones move towards the conditional answer."""

from __future__ import annotations

import torch

from jen_composer.core.config import compose
from jen_composer.diffusion.generate import generate, sample
from jen_composer.diffusion.request import GenerationRequest, make_plan
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.models.composer import ComposerModel
from tests.exact_moments import (
    TASKS,
    ProbeNoise,
    affine_moments,
    condition_value,
    exact_answer,
    gaussian_tracks,
)

ROLES = ["generate", "generate", "keep", "keep"]


def _settings(steps: int = 10, grid: str = "logsnr") -> SamplerSettings:
    return SamplerSettings(name="ddim", steps=steps, text_guidance=1.0, stem_guidance=1.0, eta=0.0, time_grid=grid)


def test_the_plan_moves_kept_tracks_with_the_generated_ones_and_replaces_them_whole() -> None:
    known = torch.randn(1, 4, 2, 5)
    req = GenerationRequest([""], ROLES, _settings(), 0, known=known)
    clean = make_plan(req, 4, 2, 1000, "cpu")
    assert clean.replace is None and clean.conditions.tolist() == [[False, False, True, True]]
    held = make_plan(req, 4, 2, 1000, "cpu", keep_by_replacement=True)
    assert held.active.all() and not held.conditions.any() and (held.t_start == 1000).all()
    assert held.replace is not None and held.replace[0, :, 0].all(dim=-1).tolist() == [False, False, True, True]
    re = GenerationRequest([""], ROLES, _settings(), 0, known=known, reimagine=torch.tensor([[0, 0, 0.5, 0]]))
    plan = make_plan(re, 4, 2, 1000, "cpu", keep_by_replacement=True)  # a re-imagined track is not held
    assert plan.t_start[0, 2] == 500 and not plan.replace[0, 2].any() and plan.replace[0, 3].all()


def test_the_denoiser_sees_one_level_and_kept_tracks_noised_to_it_with_fixed_noise() -> None:
    schedule, dist = NoiseSchedule(1000, "cosine", "v"), gaussian_tracks()
    inner = dist.branches(schedule)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def branches(x_t: torch.Tensor, t: torch.Tensor, rows: torch.Tensor, use_text: torch.Tensor) -> torch.Tensor:
        seen.append((x_t.clone(), t.clone()))
        return inner(x_t, t, rows, use_text)

    c = condition_value(dist)[None].double()
    req = GenerationRequest([""], ROLES, _settings(grid="uniform"), 0, known=c)  # integer levels
    out = sample(branches, schedule, req, make_plan(req, 4, dist.d, schedule.T, "cpu", keep_by_replacement=True), torch.float64)
    assert torch.equal(out[:, 2:], c[:, 2:])  # kept: bit-exact
    noises = []
    for x_t, t in seen[1:]:  # the first call reads the state at T (pure noise) at level T-1
        assert (t == t[:, :1]).all(), t  # one level for every track: what a shared-timestep model can see
        level = int(t[0, 0])
        if 0 < level < schedule.T:
            a, s = schedule.coefficients(t, x_t)  # the coefficients the forward process uses
            noises.append(((x_t - a * c) / s)[:, 2:])
    assert len(noises) >= 5
    for n in noises[1:]:
        torch.testing.assert_close(n, noises[0])  # the known latent noised with one fixed draw


def test_replacement_conditions_the_generated_tracks() -> None:
    """On the Gaussian tracks (rho 0.9, kept tracks at +2.5 sd), the generated tracks' exact mean
    moves from the unconditional answer towards the conditional one; replacement is biased (MSDM's
    method is an approximation), so it stops part of the way."""
    schedule, dist = NoiseSchedule(1000, "cosine", "v"), gaussian_tracks()
    c = condition_value(dist)

    def run(batch: int, noise: ProbeNoise) -> torch.Tensor:
        req = GenerationRequest([""] * batch, ROLES, _settings(25), 0, known=c.expand(batch, *c.shape).clone())
        plan = make_plan(req, dist.k, dist.d, schedule.T, "cpu", keep_by_replacement=True)
        return sample(dist.branches(schedule), schedule, req, plan, torch.float64, noise_source=noise)[:, :2].reshape(batch, -1)

    mean, _ = affine_moments(run)
    cond_mean, cond_cov = exact_answer(dist, TASKS["two given two"], schedule)
    free_mean = dist.mean[: 2 * dist.m]
    sd = cond_cov.diag().sqrt()
    err = ((mean - cond_mean) / sd).abs().max().item()
    gap = ((free_mean - cond_mean) / sd).abs().max().item()
    moved = torch.dot(mean - free_mean, cond_mean - free_mean) / (cond_mean - free_mean).square().sum()
    assert gap > 3 and err < gap, (err, gap)
    assert 0.3 < moved.item() < 1.0, moved  # part of the way: replacement's known bias (~0.5 here), not 0


def test_generate_holds_kept_tracks_by_replacement_only_for_a_shared_timestep_model() -> None:
    small = ["composer.unet.base_channels=16", "composer.unet.channel_mults=[1,2]", "composer.unet.attention_levels=[1]",
             "composer.unet.attention_heads=2", "composer.unet.cross_attention_dim=32", "composer.text.dim=32",
             "composer.text.layers=1", "composer.text.heads=2"]
    known = torch.randn(1, 4, 2, 8)
    req = GenerationRequest(["funk"], ROLES, _settings(4), 3, known=known)
    for mode, clean_seen in (("vector", True), ("shared", False)):
        torch.manual_seed(0)
        model = ComposerModel(compose(None, [*small, f"composer.diffusion.timestep_mode={mode}"]).composer, 4, 2)
        levels: list[torch.Tensor] = []
        model.unet.register_forward_pre_hook(lambda _m, args, seen=levels: seen.append(args[1].clone()))
        out = generate(model, NoiseSchedule(1000, "cosine", "v"), req, ["bass", "drums", "instrument", "melody"])
        assert torch.equal(out[0, 2:], known[0, 2:]), mode
        assert any(bool((t[:, 2:] == 0).all()) for t in levels) == clean_seen, mode
