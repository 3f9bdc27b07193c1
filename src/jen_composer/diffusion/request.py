"""``GenerationRequest``: everything one call to ``generate`` needs, checked once, turned into a plan.

Per sample and track a role: ``generate`` (T -> 0 with the other generated tracks), ``keep``
(the clean latent in ``known`` at t=0) or ``absent`` (t=T, pure noise, returned as zeros).
Two refinements of ``keep`` (beyond the paper):

- ``reimagine[b, i] = s`` in (0, 1]: SDEdit. The kept track starts at t_s = round(s*T) (clipped to
  1..T) from its forward-noised latent, waits there while the generation clock is above t_s, then
  is denoised together with the generated tracks. s = 1 regenerates it from scratch (t_s = T is pure noise).
- ``known_mask[b, i, l]`` False: frame l of kept track i is regenerated: the track is denoised like
  a generated one with its known frames as clean conditions (exact, for a model with frame levels,
  ``composer.frame_timesteps``), else overwritten after every step by the known latent noised to
  the current level (replacement; fixed noise, so deterministic samplers stay so).

Generated, re-imagined and inpainted tracks are "active": they are the task tokens' tracks.

``keep_by_replacement`` (a model with one shared timestep, which cannot see a clean track beside
noisy ones): every kept track is denoised with the generated ones and overwritten after every
step by its known latent noised to the current level (replacement, as in MSDM's conditional
sampling), so generated and kept tracks share one level; the output keeps them bit-exact. Such a
model still reads the largest level of all tracks, so an absent track (t = T) or a re-imagined one
waiting at t_s is not represented faithfully; held tracks count as active (task tokens would name
them, which is why the baseline trains without tokens), and stem guidance has no clean condition
to drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.samplers import SAMPLERS, TIME_GRIDS
from jen_composer.diffusion.settings import SamplerSettings

ROLES = ("generate", "keep", "absent")
GENERATE, KEEP, ABSENT = 0, 1, 2


@dataclass
class GenerationRequest:
    prompts: list[str]
    roles: Sequence[str] | Sequence[Sequence[str]]  # k roles for every sample, or B x k
    settings: SamplerSettings  # every cfg.composer.sampler field: name, steps, time grid, guidance, eta, ...
    seed: int
    known: torch.Tensor | None = None  # [B, k, d, L] latents of kept tracks (other tracks ignored)
    reimagine: torch.Tensor | None = None  # [B, k] strengths in [0, 1]; 0 = keep as is
    known_mask: torch.Tensor | None = None  # [B, k, L] bool; False = regenerate (kept tracks only)
    length: int | None = None  # L when nothing is kept


@dataclass
class TrackPlan:
    """The request as tensors: where each track starts and whether it moves."""

    roles: torch.Tensor  # [B, k] long codes
    t_start: torch.Tensor  # [B, k]: T generate (active) or absent (inactive), t_s re-imagine, 0 keep
    active: torch.Tensor  # [B, k] bool: denoised by the sampler
    conditions: torch.Tensor  # [B, k] bool: clean kept tracks (the stem-free CFG branch drops them)
    replace: torch.Tensor | None  # [B, k, 1, L] bool: known frames to overwrite after each step
    known: torch.Tensor  # [B, k, d, L] (zeros where nothing is known)
    by_replacement: bool = False  # kept tracks are held by replacement, never shown clean


def role_codes(roles: Sequence[str] | Sequence[Sequence[str]], batch: int, k: int) -> torch.Tensor:
    rows = [list(roles)] * batch if roles and isinstance(roles[0], str) else [list(r) for r in roles]
    if len(rows) != batch or any(len(r) != k for r in rows):
        raise ConfigError(f"request.roles: expected {k} roles per sample for {batch} samples, got {roles}")
    bad = sorted({r for row in rows for r in row if r not in ROLES})
    if bad:
        raise ConfigError(f"request.roles: unknown role(s) {bad}; use one of {ROLES}")
    return torch.tensor([[ROLES.index(r) for r in row] for row in rows], dtype=torch.long)


def make_plan(req: GenerationRequest, k: int, d: int, T: int, device: torch.device | str,
              keep_by_replacement: bool = False) -> TrackPlan:
    """Check the request against the model's k tracks of d channels and build the plan."""
    b = len(req.prompts)
    if b == 0:
        raise ConfigError("request.prompts: at least one prompt is needed")
    if req.settings.name not in SAMPLERS:
        raise ConfigError(f"request.settings.name: '{req.settings.name}' is not one of {SAMPLERS}")
    if req.settings.name != "ddpm" and not 1 <= req.settings.steps <= T - 1:
        raise ConfigError(f"request.settings.steps: {req.settings.steps} is outside 1..{T - 1}")
    if req.settings.time_grid not in TIME_GRIDS:
        raise ConfigError(f"request.time_grid: '{req.settings.time_grid}' is not one of {TIME_GRIDS}")
    if req.settings.eta < 0:
        raise ConfigError(f"request.eta: {req.settings.eta} is negative")
    if req.settings.inpaint_resample < 0:
        raise ConfigError(f"request.inpaint_resample: {req.settings.inpaint_resample} is negative")
    roles = role_codes(req.roles, b, k).to(device)
    keep = roles == KEEP
    if req.known is not None:
        if req.known.dim() != 4 or tuple(req.known.shape[:3]) != (b, k, d):
            raise ConfigError(f"request.known: expected [{b}, {k}, {d}, L], got {tuple(req.known.shape)}")
        known = req.known.to(device)
    elif bool(keep.any()):
        raise ConfigError("request.known: kept tracks need their latents")
    else:
        if req.length is None or req.length < 1:
            raise ConfigError("request.length: give the number of latent frames when nothing is kept")
        known = torch.zeros(b, k, d, req.length, device=device)
    length = known.shape[-1]
    t_start = torch.where(keep, 0, T).long()
    active = roles == GENERATE
    if req.reimagine is not None:
        s = req.reimagine.to(device).float()
        if tuple(s.shape) != (b, k) or bool(((s < 0) | (s > 1)).any()):
            raise ConfigError(f"request.reimagine: expected [{b}, {k}] strengths in [0, 1], got {tuple(s.shape)}")
        re = keep & (s > 0)
        t_s = (s * T).round().long().clamp(1, T)
        t_start = torch.where(re, t_s, t_start)
        active = active | re
    replace = None
    held = keep & ~active  # kept as they are (not re-imagined)
    m = torch.ones(b, k, length, dtype=torch.bool, device=device)
    inpaint = torch.zeros_like(keep)
    if req.known_mask is not None:
        m = req.known_mask.to(device).bool()
        if tuple(m.shape) != (b, k, length):
            raise ConfigError(f"request.known_mask: expected [{b}, {k}, {length}], got {tuple(m.shape)}")
        inpaint = keep & ~m.all(dim=-1)
    if keep_by_replacement:
        inpaint = inpaint | held
    if req.known_mask is not None or bool(inpaint.any()):
        t_start = torch.where(inpaint & ~active, T, t_start)
        active = active | inpaint
        replace = (m & inpaint[..., None])[:, :, None, :]
    conditions = keep & ~active
    return TrackPlan(roles, t_start, active, conditions, replace, known, keep_by_replacement)
