"""The one entry point for inference: ``generate(model, schedule, request) -> latents [B, k, d, L]``.

Used by the co-composition session, the training previews and the benchmarks. ``sample`` is the
same procedure for any ``BranchDenoiser`` (the analytic tests plug in the closed-form one).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from jen_composer.core.seed import make_generator
from jen_composer.diffusion.guidance import (
    BranchDenoiser,
    Denoiser,
    GuidedDenoiser,
    KnownFramesClean,
    ModelBranches,
)
from jen_composer.diffusion.request import ABSENT, GenerationRequest, TrackPlan, make_plan
from jen_composer.diffusion.samplers import Progress, make_solver, run_sampler, sampler_grid
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.solvers import GeneratorNoise, NoiseSource
from jen_composer.diffusion.tasks import task_prompts


def sample(branches: BranchDenoiser, schedule: NoiseSchedule, request: GenerationRequest, plan: TrackPlan,
           dtype: torch.dtype = torch.float32, progress: Progress | None = None,
           batched_cfg: bool = True, noise_source: NoiseSource | None = None) -> torch.Tensor:
    """Run the request's sampler on ``plan``; absent tracks come back as zeros, kept ones bit-exact.

    Region edits (``plan.replace``): if ``branches.frame_levels`` (a denoiser that takes a level per
    frame, e.g. a composer trained with ``composer.frame_timesteps``), the known frames are clean conditions at t=0 and the edit is exact; otherwise they are
    overwritten after every step by the known latent noised to the current level (replacement,
    biased; ``request.settings.inpaint_resample`` adds RePaint passes). Tracks held by replacement
    (``plan.by_replacement``: a shared-timestep model) always take the replacement path.

    All randomness comes from ``noise_source`` (default: the request's seed), so exact tests can
    push a basis through the sampler instead of random draws.
    """
    known = plan.known.to(dtype)
    draw = noise_source or GeneratorNoise(make_generator(request.seed, known.device))
    noise, known_noise, absent_noise = draw(known), draw(known), draw(known)
    T = schedule.T
    keep_like = plan.active & (plan.roles != 0)  # re-imagined / inpainted: start from their noised latent
    noised_known = schedule.add_noise(known, known_noise, plan.t_start)
    x = torch.where(keep_like[..., None, None], noised_known, noise)
    x = torch.where(plan.conditions[..., None, None], known, x)

    after_step = None
    denoiser: Denoiser = GuidedDenoiser(branches, T, request.settings.text_guidance, request.settings.stem_guidance, plan.conditions,
                                        absent_noise, batched=batched_cfg)
    if plan.replace is not None:
        replace = plan.replace
        exact = bool(getattr(branches, "frame_levels", False)) and not plan.by_replacement

        def after_step(state: torch.Tensor, t_next: torch.Tensor) -> torch.Tensor:
            return torch.where(replace, known if exact else schedule.add_noise(known, known_noise, t_next), state)

        x = after_step(x, plan.t_start)
        if exact:
            denoiser = KnownFramesClean(denoiser, replace[:, :, 0, :])
    solver = make_solver(request.settings.name, schedule, request.settings.eta, draw)
    joins = plan.t_start[plan.active & (plan.t_start < T)].unique().tolist()
    grid = sampler_grid(request.settings.name, request.settings.steps, request.settings.time_grid, schedule, joins,
                        request.settings.logsnr_points)
    x = run_sampler(denoiser, schedule, x, plan.t_start, plan.active, solver, grid, after_step, progress,
                    request.settings.inpaint_resample)
    x = torch.where(plan.conditions[..., None, None], known, x)
    if plan.replace is not None:  # known frames (replacement-held tracks: all of them) come back bit-exact
        x = torch.where(plan.replace, known, x)
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
        shared = str(model.cfg.diffusion.timestep_mode) == "shared"  # cannot see a clean track beside noisy ones
        plan = make_plan(request, model.num_tracks, model.latent_dim, schedule.T, device, keep_by_replacement=shared)
        prompts = task_prompts(request.prompts, plan.active.cpu(), tracks, bool(model.cfg.task_tokens))
        tokens, mask = model.encode_text(prompts)
        branches = ModelBranches(model, schedule, tokens, mask)
        return sample(branches, schedule, request, plan, torch.float32, progress, batched_cfg)
    finally:
        model.train(was_training)
