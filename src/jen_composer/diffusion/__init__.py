"""diffusion layer: schedules, objective, task sampler and tokens, CFG, samplers, ``generate``."""

from jen_composer.diffusion.generate import generate, sample
from jen_composer.diffusion.guidance import BranchDenoiser, Denoiser, GuidedDenoiser, ModelBranches
from jen_composer.diffusion.objective import diffusion_loss, masked_loss, noise_tracks, sample_text_dropout
from jen_composer.diffusion.request import GenerationRequest, TrackPlan, make_plan
from jen_composer.diffusion.samplers import SAMPLERS, TIME_GRIDS, run_sampler
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.diffusion.tasks import (
    TaskMixture,
    generated_mask,
    join_task_prompt,
    task_prefix,
    task_prompts,
)

__all__ = [
    "BranchDenoiser", "Denoiser", "GenerationRequest", "GuidedDenoiser", "ModelBranches", "NoiseSchedule",
    "SAMPLERS", "SamplerSettings", "TIME_GRIDS", "TaskMixture", "TrackPlan", "diffusion_loss", "generate",
    "generated_mask", "join_task_prompt", "make_plan", "masked_loss", "noise_tracks", "run_sampler", "sample",
    "sample_text_dropout", "task_prefix", "task_prompts",
]
