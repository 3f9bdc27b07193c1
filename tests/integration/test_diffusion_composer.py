"""``generate`` with the real ComposerModel, and a short CPU training run on Gaussian sequences."""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.config import compose
from jen_composer.core.errors import ConfigError
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.generate import generate
from jen_composer.diffusion.guidance import ModelBranches
from jen_composer.diffusion.objective import diffusion_loss, sample_text_dropout
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.diffusion.tasks import generated_mask, paper_timesteps, task_prompts
from jen_composer.models.composer import ComposerModel

TRACKS = ["bass", "drums", "melody"]


pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


def small_model(seed: int = 0, *overrides: str) -> ComposerModel:
    torch.manual_seed(seed)
    cfg = compose(None, ["composer.unet.base_channels=16", "composer.unet.channel_mults=[1,2]",
                         "composer.unet.attention_levels=[1]", "composer.unet.attention_heads=2",
                         "composer.unet.cross_attention_dim=32", "composer.text.dim=32",
                         "composer.text.layers=1", "composer.text.heads=2", *overrides]).composer
    model = ComposerModel(cfg, num_tracks=len(TRACKS), latent_dim=2)
    torch.nn.init.normal_(model.unet.out[-1].weight, std=0.1)  # untrained but not all-zero
    return model


def test_generate_honours_roles_seed_and_batched_cfg() -> None:
    model = small_model()
    schedule = NoiseSchedule(1000, "cosine", "v")
    known = torch.randn(2, 3, 2, 10, generator=make_generator(0))
    roles = [["generate", "keep", "absent"], ["keep", "generate", "generate"]]
    req = GenerationRequest(["funk", "ambient"], roles, SamplerSettings(name="dpmpp2m", steps=6, text_guidance=3.0, stem_guidance=2.0, eta=0.0, time_grid="logsnr"), 5, known=known)
    seen = []
    out = generate(model, schedule, req, TRACKS, progress=lambda i, n: seen.append((i, n)))
    assert out.shape == (2, 3, 2, 10) and torch.isfinite(out).all()
    assert torch.equal(out[0, 1], known[0, 1]) and torch.equal(out[1, 0], known[1, 0])  # kept: exact
    assert torch.equal(out[0, 2], torch.zeros(2, 10))  # absent: zeros
    assert seen[-1] == (6, 6)
    again = generate(model, schedule, req, TRACKS)
    assert torch.equal(out, again)  # seeded
    separate = generate(model, schedule, req, TRACKS, batched_cfg=False)
    assert torch.allclose(out, separate, atol=1e-4)
    other = generate(model, schedule, GenerationRequest(**{**req.__dict__, "seed": 6}), TRACKS)
    assert not torch.allclose(out[0, 0], other[0, 0])


def test_batched_cfg_is_one_forward_per_step() -> None:
    model = small_model()
    schedule = NoiseSchedule(100, "cosine")
    tokens, mask = model.encode_text(["x"])
    counter = ModelBranches(model, schedule, tokens, mask)
    from jen_composer.diffusion.generate import sample
    from jen_composer.diffusion.request import make_plan

    req = GenerationRequest(["x"], ["generate", "keep", "absent"], SamplerSettings(name="ddim", steps=4, text_guidance=3.0, stem_guidance=2.0, eta=0.0, time_grid="uniform"), 0, known=torch.zeros(1, 3, 2, 6))
    with torch.no_grad():
        sample(counter, schedule, req, make_plan(req, 3, 2, 100, "cpu"))
    assert counter.calls == 4  # three CFG branches, one batched forward per step


def test_bad_requests_fail_with_one_line() -> None:
    model = small_model()
    schedule = NoiseSchedule(100, "cosine")
    base = dict(prompts=["x"], settings=SamplerSettings(name="ddim", steps=4, text_guidance=1.0, stem_guidance=1.0), seed=0)
    with pytest.raises(ConfigError, match="request.known: kept tracks need their latents"):
        generate(model, schedule, GenerationRequest(roles=["keep", "generate", "absent"], **base), TRACKS)
    with pytest.raises(ConfigError, match="unknown role"):
        generate(model, schedule, GenerationRequest(roles=["keep", "make", "absent"], length=4, **base), TRACKS)
    with pytest.raises(ConfigError, match="request.settings.steps: 200 is outside 1..99"):
        generate(model, schedule, GenerationRequest(roles=["generate"] * 3, length=4,
                                                    **{**base, "settings": SamplerSettings(steps=200)}), TRACKS)
    with pytest.raises(ConfigError, match="sampler setting name: 'euler' is not one of"):
        SamplerSettings(name="euler")


def gaussian_sequences(n: int, length: int, rho: float, generator: torch.Generator) -> torch.Tensor:
    """Track 1 a smooth random sequence; track 0 = rho * track 1 + noise; track 2 independent."""
    base = torch.randn(n, 2, length + 4, generator=generator).unfold(-1, 5, 1).mean(-1) * 5**0.5
    follow = rho * base + (1 - rho**2) ** 0.5 * torch.randn(n, 2, length, generator=generator)
    free = torch.randn(n, 2, length, generator=generator)
    return torch.stack([follow, base, free], dim=1)


def test_trained_tiny_unet_moves_towards_the_conditional_mean() -> None:
    """~8 s (200 steps, one thread, quiet machine): the conditional samples of track 0 given track 1 = c approach
    the analytic conditional mean rho*c and leave the marginal mean 0 (measured: squared distance
    0.08 vs 0.57, regression slope 0.73 where rho = 0.9)."""
    model = small_model(1, "composer.text_dropout=0.1")
    schedule = NoiseSchedule(1000, "cosine", "v")
    rho, length = 0.9, 16
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = make_generator(0)
    step = 0
    while step < 200:  # a fixed step count: no wall-clock budget, so a loaded machine cannot fail it
        x0 = gaussian_sequences(32, length, rho, g)
        t = paper_timesteps(32, 3, schedule.T, g)
        prompts = task_prompts(["gauss"] * 32, generated_mask(t, schedule.T), TRACKS)
        loss = diffusion_loss(model, schedule, x0, t, prompts, sample_text_dropout(32, 0.1, g), g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    c = gaussian_sequences(1, length, rho, make_generator(99))[0, 1]  # a typical condition
    known = torch.zeros(48, 3, 2, length)
    known[:, 1] = c
    req = GenerationRequest(["gauss"] * 48, ["generate", "keep", "absent"], SamplerSettings(name="ddim", steps=20, text_guidance=1.0, stem_guidance=1.0, eta=0.0, time_grid="logsnr"), 3, known=known)
    out = generate(model, schedule, req, TRACKS)
    mean = out[:, 0].mean(0)
    to_conditional = (mean - rho * c).pow(2).mean().item()
    to_marginal = mean.pow(2).mean().item()
    print(f"steps={step} to_conditional={to_conditional:.4f} to_marginal={to_marginal:.4f}")
    slope = ((mean * c).sum() / (c * c).sum()).item()  # exact conditional: rho, marginal: 0
    assert to_conditional < 0.3 * to_marginal, (step, to_conditional, to_marginal)
    assert 0.5 < slope < 1.2, slope
