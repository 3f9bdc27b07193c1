"""Denoisers the samplers call, and classifier-free guidance over text and kept stems.

The samplers only need ``Denoiser(x_t [B,k,d,L], t [B,k]) -> x0 estimate``. Guidance wraps a
``BranchDenoiser``, which evaluates any stack of branch rows: row r belongs to sample ``rows[r]``
and sees its text (``use_text``) or the null text. Branches, all batched into one call by default:

- full: the sample as is;
- text-free: null text (only when ``text_guidance != 1``);
- stem-free: the kept (clean) tracks set absent, t=T and pure noise, the input the model was
  trained on for "no condition" (only when ``stem_guidance != 1`` and something is kept).

``x0 = full + (w_text - 1)(full - text_free) + (w_stem - 1)(full - stem_free)``. For the generated
tracks x_t and t are the same in every branch, so guiding x0 equals guiding eps or v.
"""

from __future__ import annotations

from typing import Protocol

import torch

from jen_composer.diffusion.schedule import NoiseSchedule


class Denoiser(Protocol):
    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor: ...


class BranchDenoiser(Protocol):
    """``t`` is ``[B, k]``, or ``[B, k, L]`` (a level per frame) for one with ``frame_levels = True``."""

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, rows: torch.Tensor,
                  use_text: torch.Tensor) -> torch.Tensor: ...


class KnownFramesClean:
    """Asks the wrapped denoiser with the known frames of region-edited tracks at t=0 (``known [B, k,
    L]`` True), i.e. as exact conditions, the way kept tracks are; needs a frame-level denoiser."""

    def __init__(self, inner: Denoiser, known: torch.Tensor) -> None:
        self.inner, self.known = inner, known

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        frames = t[..., None].expand(*t.shape, self.known.shape[-1])
        return self.inner(x_t, torch.where(self.known, torch.zeros_like(frames), frames))


class ModelBranches:
    """A ``ComposerModel`` with pre-encoded prompts: raw eps/v prediction -> x0 estimate."""

    def __init__(self, model: torch.nn.Module, schedule: NoiseSchedule, tokens: torch.Tensor,
                 mask: torch.Tensor) -> None:
        self.model, self.schedule, self.tokens, self.mask = model, schedule, tokens, mask
        self.calls = 0  # forward passes (one per batched call)
        # a model trained with composer.frame_timesteps takes t [B, k, L]: region edits are exact
        self.frame_levels = bool(getattr(model, "frame_timesteps", False))

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, rows: torch.Tensor,
                 use_text: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        tokens, mask = self.model.drop_text(self.tokens[rows], self.mask[rows], ~use_text)
        pred = self.model.denoise(x_t, t, tokens, mask)
        return self.schedule.to_x0(pred, x_t, t)


class GuidedDenoiser:
    """Classifier-free guidance with separate text and stem scales (see the module note)."""

    def __init__(self, branches: BranchDenoiser, T: int, text_guidance: float, stem_guidance: float,
                 conditions: torch.Tensor, absent_noise: torch.Tensor, batched: bool = True) -> None:
        self.branches, self.T = branches, T
        self.w_text, self.w_stem = float(text_guidance), float(stem_guidance)
        self.conditions, self.absent_noise, self.batched = conditions, absent_noise, batched

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        b = x_t.shape[0]
        rows = torch.arange(b, device=x_t.device)
        on = torch.ones(b, dtype=torch.bool, device=x_t.device)
        branches = [(x_t, t, on)]
        if self.w_text != 1.0:
            branches.append((x_t, t, ~on))
        use_stem = self.w_stem != 1.0 and bool(self.conditions.any())
        if use_stem:
            c = self.conditions
            c_t = c[..., None] if t.dim() == 3 else c  # frame-level t: [B, k, L]
            branches.append((torch.where(c[..., None, None], self.absent_noise, x_t),
                             torch.where(c_t, torch.full_like(t, self.T), t), on))
        if self.batched and len(branches) > 1:
            out = self.branches(torch.cat([x for x, _, _ in branches]), torch.cat([s for _, s, _ in branches]),
                                rows.repeat(len(branches)), torch.cat([u for _, _, u in branches]))
            outs = list(out.split(b))
        else:
            outs = [self.branches(x, s, rows, u) for x, s, u in branches]
        full = outs[0]
        guided = full
        if self.w_text != 1.0:
            guided = guided + (self.w_text - 1.0) * (full - outs[1])
        if use_stem:
            guided = guided + (self.w_stem - 1.0) * (full - outs[-1])
        return guided
