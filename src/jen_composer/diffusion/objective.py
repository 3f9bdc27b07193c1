"""The training objective: per-track noising (eq. 2 with each track's own t_i), loss on generated tracks."""

from __future__ import annotations

import torch

from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.tasks import generated_mask


def noise_tracks(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x_t, noise)``: each track noised to its own level; t=0 stays clean, t=T is pure noise."""
    noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    return schedule.add_noise(x0, noise, t), noise


def masked_loss(pred: torch.Tensor, target: torch.Tensor, t: torch.Tensor, T: int) -> torch.Tensor:
    """Mean squared error over the elements of generated tracks only (0 < t_i < T); with frame
    levels ``t [B, k, L]`` over generated frames only (known frames at t=0 are not counted)."""
    gen = generated_mask(t, T).to(pred.dtype)
    mask = gen[:, :, None, :] if t.dim() == 3 else gen[..., None, None]
    per_element = (pred - target) ** 2 * mask
    count = mask.sum() * pred.shape[2] * (1 if t.dim() == 3 else pred.shape[3])
    return per_element.sum() / count.clamp_min(1.0)


def diffusion_loss(model: torch.nn.Module, schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor,
                   prompts: list[str], drop_text: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """``model(x_t [B,k,d,L], t [B,k] or [B,k,L], prompts, drop_text)`` regressed on eps or v for
    generated tracks (frames).

    ``prompts`` already carry their task tokens (``tasks.task_prompts``); ``drop_text [B]`` marks
    the rows that get the null text (CFG training, ``sample_text_dropout``).
    """
    x_t, noise = noise_tracks(schedule, x0, t, generator)
    pred = model(x_t, t, prompts, drop_text)
    return masked_loss(pred, schedule.target(x0, noise, t), t, schedule.T)


def sample_text_dropout(batch: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """``[B]`` bool: rows trained with the null text (``cfg.composer.text_dropout``)."""
    return torch.rand(batch, generator=generator, device=generator.device) < probability
