"""AdamW with the paper's linear decay (or constant / cosine), from `cfg.trainer`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from omegaconf import DictConfig

from jen_composer.core.config.options import LrScheduler, choices
from jen_composer.core.errors import ConfigError

SCHEDULERS = choices(LrScheduler)


def lr_multiplier(kind: str, step: int, warmup: int, total: int) -> float:
    """Linear warm-up, then: `linear` decays to 0 at `total` (paper), `cosine` likewise, `constant`."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
    if kind == "linear":
        return 1.0 - progress
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if kind == "constant":
        return 1.0
    raise ConfigError(f"trainer.optimizer.scheduler: unknown '{kind}'; choose one of {', '.join(SCHEDULERS)}")


def build_optimizer_and_scheduler(params: Iterable[torch.nn.Parameter], trainer_cfg: DictConfig) -> dict[str, Any]:
    o = trainer_cfg.optimizer
    if len(o.betas) != 2:
        raise ConfigError(f"trainer.optimizer.betas: expected two values, got {list(o.betas)}")
    optimizer = torch.optim.AdamW(params, lr=float(o.lr), betas=(float(o.betas[0]), float(o.betas[1])),
                                  weight_decay=float(o.weight_decay))
    kind, warmup, total = str(o.scheduler), int(o.warmup_steps), int(trainer_cfg.max_steps)
    lr_multiplier(kind, 0, warmup, total)  # validate the name now, not at the first step
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_multiplier(kind, step, warmup, total))
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
