"""The one entry point for inference: ``generate(model, schedule, request) -> latents [B, k, d, L]``.

Used by the co-composition session, the training previews and the benchmarks. ``sample`` is the
same procedure for any ``BranchDenoiser`` (the analytic tests plug in the closed-form one).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from jen_composer.core.seed import make_generator
from jen_composer.diffusion.guidance import BranchDenoiser, GuidedDenoiser, ModelBranches
from jen_composer.diffusion.request import ABSENT, GenerationRequest, TrackPlan, make_plan
from jen_composer.diffusion.samplers import Progress, run_sampler
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.tasks import task_prompts


def sample(branches: BranchDenoiser, schedule: NoiseSchedule, request: GenerationRequest, plan: TrackPlan,
           dtype: torch.dtype = torch.float32, progress: Progress | None = None,
           batched_cfg: bool = True) -> torch.Tensor:
    """Run the request's sampler on ``plan``; absent tracks come back as zeros, kept ones bit-exact."""
    known = plan.known.to(dtype)
    device = known.device
    gen = make_generator(request.seed, device)
    shape = known.shape
    noise = torch.randn(shape, generator=gen, device=device, dtype=dtype)
    known_noise = torch.randn(shape, generator=gen, device=device, dtype=dtype)
    absent_noise = torch.randn(shape, generator=gen, device=device, dtype=dtype)
    T = schedule.T
    keep_like = plan.active & (plan.roles != 0)  # re-imagined / inpainted: start from their noised latent
    noised_known = schedule.add_noise(known, known_noise, plan.t_start.clamp(max=T - 1))
    x = torch.where(keep_like[..., None, None], noised_known, noise)
    x = torch.where(plan.conditions[..., None, None], known, x)

    after_step = None
    if plan.replace is not None:
        replace = plan.replace

        def after_step(state: torch.Tensor, t_next: torch.Tensor) -> torch.Tensor:
            return torch.where(replace, schedule.add_noise(known, known_noise, t_next), state)

        x = after_step(x, plan.t_start)
    s = request.settings
    denoiser = GuidedDenoiser(branches, T, s.text_guidance, s.stem_guidance, plan.conditions, absent_noise,
                              batched=batched_cfg)
    x = run_sampler(denoiser, schedule, x, plan.t_start, plan.active, s, gen, after_step, progress)
    x = torch.where(plan.conditions[..., None, None], known, x)
    return torch.where((plan.roles == ABSENT)[..., None, None], torch.zeros_like(x), x)


@torch.no_grad()
def generate(model: torch.nn.Module, schedule: NoiseSchedule, request: GenerationRequest, tracks: Sequence[str],
             progress: Progress | None = None, batched_cfg: bool = True) -> torch.Tensor:
    """Generate with a ``ComposerModel``; ``tracks`` are the track names (``cfg.data.tracks``) for
    the task tokens, which follow ``model.cfg.task_tokens``."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        plan = make_plan(request, model.num_tracks, model.latent_dim, schedule.T, device)
        prompts = task_prompts(request.prompts, plan.active.cpu(), tracks, bool(model.cfg.task_tokens))
        tokens, mask = model.encode_text(prompts)
        branches = ModelBranches(model, schedule, tokens, mask)
        return sample(branches, schedule, request, plan, torch.float32, progress, batched_cfg)
    finally:
        model.train(was_training)
