"""Exponential moving average of model weights, saved and restored with the checkpoint."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from jen_composer.models.frozen import frozen_modules

SHADOW = "shadow."


class EMA(nn.Module):
    """A shadow copy of ``model`` that ``update`` moves towards the live weights.

    Frozen submodules (a pretrained text encoder) are shared with ``model``, not copied: their
    average is themselves, and a second copy would double their memory and checkpoint size.
    The shadow is not a registered submodule, so Lightning's model summary and its "modules in
    eval mode" check see only the trained model; its tensors still follow ``.to()`` and are saved
    and loaded as ``<prefix>shadow.*`` like a submodule's.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        super().__init__()
        self.decay = float(decay)
        shared = {id(m): m for m in frozen_modules(model).values()}
        object.__setattr__(self, "shadow", copy.deepcopy(model, shared).eval().requires_grad_(False))
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> EMA:  # type: ignore[override]
        self.shadow._apply(fn)
        return super()._apply(fn, recurse)

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str, keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for key, value in self.shadow.state_dict(keep_vars=keep_vars).items():
            destination[prefix + SHADOW + key] = value

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list[str], unexpected_keys: list[str], error_msgs: list[str]) -> None:
        start = prefix + SHADOW
        own = {k: v for k, v in state_dict.items() if not k.startswith(start)}
        super()._load_from_state_dict(own, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        shadow = {k[len(start):]: v for k, v in state_dict.items() if k.startswith(start)}
        result = self.shadow.load_state_dict(shadow, strict=False)
        missing_keys.extend(start + k for k in result.missing_keys)
        unexpected_keys.extend(start + k for k in result.unexpected_keys)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.num_updates += 1
        # Warm-up: early on the average would be dominated by the random initialisation.
        decay = min(self.decay, (1 + self.num_updates.item()) / (10 + self.num_updates.item()))
        for ema_p, p in zip(self.shadow.parameters(), model.parameters(), strict=True):
            if p.requires_grad:
                ema_p.lerp_(p.detach().to(ema_p.dtype), 1.0 - decay)
        for ema_b, b in zip(self.shadow.buffers(), model.buffers(), strict=True):
            if ema_b is not b:
                ema_b.copy_(b)
