"""Training tasks as timestep vectors (section 5.1) and the task-token prompt prefix (section 4.2).

A timestep vector ``t [B, k]`` says what each track is: 0 = a clean condition, 0 < t < T = being
generated, T = absent (pure noise, no information).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from jen_composer.core.errors import ConfigError

TASK_MODES = ("paper", "independent", "joint_only")


def generated_mask(t: torch.Tensor, T: int) -> torch.Tensor:
    """``[B, k]`` bool: the tracks being generated (0 < t_i < T), i.e. the ones the loss covers."""
    return (t > 0) & (t < T)


def sample_task_timesteps(batch: int, k: int, num_generate: torch.Tensor | int, T: int,
                          generator: torch.Generator, mode: str = "paper",
                          condition_probability: float = 0.5) -> torch.Tensor:
    """A seeded timestep vector ``[B, k]`` long per sample (pure: uses only ``generator``).

    ``num_generate`` (``[B]`` or one stage s for all) tracks, chosen uniformly, are generated;
    every other track is a condition (t=0) with ``condition_probability``, else absent (t=T).
    Modes: ``paper`` (the generated tracks share t ~ U{1..T-1}), ``independent`` (each generated
    track draws its own t), ``joint_only`` (ablation baseline: every track generated with one
    shared t, ``num_generate`` ignored).
    """
    if mode not in TASK_MODES:
        raise ConfigError(f"composer.task_mode: '{mode}' is not one of {TASK_MODES}")
    if not 0.0 <= condition_probability <= 1.0:
        raise ConfigError(f"composer.condition_probability: {condition_probability} is outside [0, 1]")
    device = generator.device
    n = torch.as_tensor(num_generate, dtype=torch.long, device=device).expand(batch)
    if bool(((n < 1) | (n > k)).any()):
        raise ConfigError(f"num_generate must be in 1..{k}, got {n.tolist()}")
    shared = torch.randint(1, T, (batch, 1), generator=generator, device=device)
    if mode == "joint_only":
        return shared.expand(batch, k).clone()
    ranks = torch.rand(batch, k, generator=generator, device=device).argsort(dim=1).argsort(dim=1)
    gen = ranks < n[:, None]  # a uniformly random subset of size n per row
    own = torch.randint(1, T, (batch, k), generator=generator, device=device)
    level = shared.expand(batch, k) if mode == "paper" else own
    cond = torch.rand(batch, k, generator=generator, device=device) < condition_probability
    other = torch.where(cond, torch.zeros_like(level), torch.full_like(level, T))
    return torch.where(gen, level, other)


def task_prefix(tracks: Sequence[str], generated: Sequence[bool]) -> str:
    """``"[bass & drums generation]"``: the generated tracks in canonical (config) order."""
    names = [name for name, g in zip(tracks, generated, strict=True) if g]
    return f"[{' & '.join(names)} generation]" if names else ""


def join_task_prompt(prefix: str, prompt: str, enabled: bool = True) -> str:
    """The prompt the text encoder sees: ``"<prefix> <prompt>"`` (just the prompt when disabled)."""
    if not enabled or not prefix:
        return prompt
    return f"{prefix} {prompt}".strip()


def task_prompts(prompts: Sequence[str], generated: torch.Tensor, tracks: Sequence[str],
                 enabled: bool = True) -> list[str]:
    """Prefix each prompt with its row's task tokens (``generated [B, k]`` bool)."""
    if generated.shape != (len(prompts), len(tracks)):
        raise ValueError(f"generated mask {tuple(generated.shape)} does not match {len(prompts)} prompts x {len(tracks)} tracks")
    rows = generated.bool().tolist()
    return [join_task_prompt(task_prefix(tracks, row), p, enabled) for p, row in zip(prompts, rows)]
