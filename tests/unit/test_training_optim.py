"""One warm-up/decay schedule for every module: transformers' schedules driven by `cfg.trainer`."""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.config import compose
from jen_composer.core.errors import ConfigError
from jen_composer.training.optim import build_optimizer_and_scheduler


def _lrs(kind: str, warmup: int, total: int) -> list[float]:
    cfg = compose(None, [f"trainer.optimizer.scheduler={kind}", f"trainer.optimizer.warmup_steps={warmup}",
                         f"trainer.max_steps={total}", "trainer.optimizer.lr=1.0"])
    built = build_optimizer_and_scheduler([torch.nn.Parameter(torch.zeros(1))], cfg.trainer)
    optimizer, scheduler = built["optimizer"], built["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(total + 1):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_warmup_then_linear_cosine_constant() -> None:
    assert _lrs("linear", 2, 10) == pytest.approx([0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0])
    cosine = _lrs("cosine", 0, 10)
    assert cosine[0] == 1.0 and cosine[5] == pytest.approx(0.5) and cosine[10] == pytest.approx(0.0)
    assert _lrs("constant", 4, 10)[1:6] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])


def test_unknown_scheduler_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="must be one of linear, constant, cosine, got 'step'"):
        compose(None, ["trainer.optimizer.scheduler=step"])  # refused by the typed config, before any build
