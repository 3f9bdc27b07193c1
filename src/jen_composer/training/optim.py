"""AdamW with a linear warm-up, then the paper's linear decay (or constant / cosine), from `cfg.trainer`.

The schedules are transformers' `get_*_schedule_with_warmup`; both the composer and the autoencoder use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from omegaconf import DictConfig
from transformers import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

from jen_composer.core.errors import ConfigError

Scheduler = Callable[[torch.optim.Optimizer, int, int], torch.optim.lr_scheduler.LambdaLR]
SCHEDULERS: dict[str, Scheduler] = {
    "linear": lambda opt, warmup, total: get_linear_schedule_with_warmup(opt, warmup, total),  # paper: 0 at max_steps
    "cosine": lambda opt, warmup, total: get_cosine_schedule_with_warmup(opt, warmup, total),
    "constant": lambda opt, warmup, total: get_constant_schedule_with_warmup(opt, warmup),
}


def check_scheduler(kind: str) -> Scheduler:
    """The schedule factory for `trainer.optimizer.scheduler`; a ConfigError naming the choices otherwise."""
    if kind not in SCHEDULERS:
        raise ConfigError(f"trainer.optimizer.scheduler: unknown '{kind}'; choose one of {', '.join(SCHEDULERS)}")
    return SCHEDULERS[kind]


def build_optimizer_and_scheduler(params: Iterable[torch.nn.Parameter], trainer_cfg: DictConfig) -> dict[str, Any]:
    """Lightning's optimiser config: AdamW plus the schedule, stepped every optimiser step."""
    o = trainer_cfg.optimizer
    if len(o.betas) != 2:
        raise ConfigError(f"trainer.optimizer.betas: expected two values, got {list(o.betas)}")
    make_schedule = check_scheduler(str(o.scheduler))
    optimizer = torch.optim.AdamW(params, lr=float(o.lr), betas=(float(o.betas[0]), float(o.betas[1])),
                                  weight_decay=float(o.weight_decay))
    scheduler = make_schedule(optimizer, int(o.warmup_steps), int(trainer_cfg.max_steps))
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
