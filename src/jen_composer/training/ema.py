"""Exponential moving average of model weights, saved and restored with the checkpoint."""

from __future__ import annotations

import copy

import torch
from torch import nn

from jen_composer.models.frozen import frozen_modules


class EMA(nn.Module):
    """A shadow copy of ``model`` that ``update`` moves towards the live weights.

    Frozen submodules (a pretrained text encoder) are shared with ``model``, not copied: their
    average is themselves, and a second copy would double their memory and checkpoint size.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        super().__init__()
        self.decay = float(decay)
        shared = {id(m): m for m in frozen_modules(model).values()}
        self.shadow = copy.deepcopy(model, shared).eval().requires_grad_(False)
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

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
