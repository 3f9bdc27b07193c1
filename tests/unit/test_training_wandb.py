"""W&B as its users expect: `best` goes to the best val/loss, the user's own mode holds, the LR is logged."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from jen_composer.core.config import compose
from jen_composer.training.checkpointing import build_checkpoint_callbacks
from jen_composer.training.loggers import RunWandbLogger, build_logger, wandb_mode


class _Run:
    id = "test"

    def __init__(self) -> None:
        self.logged: list[tuple[str, list[str]]] = []

    def log_artifact(self, artifact: Any, aliases: list[str]) -> None:
        self.logged.append((artifact.metadata["original_filename"], aliases))


def _remember(callback: ModelCheckpoint, path: Path, score: float, best: bool) -> None:
    path.write_bytes(path.name.encode())
    callback.best_k_models[str(path)] = torch.tensor(score)
    callback.current_score = torch.tensor(score)
    if best:
        callback.best_model_path, callback.best_model_score = str(path), torch.tensor(score)


def test_best_alias_goes_to_the_best_val_loss_not_the_newest_step(tmp_path: Path, monkeypatch) -> None:
    best, periodic = build_checkpoint_callbacks(compose(None, [f"output_root={tmp_path}"]), tmp_path)
    logger = RunWandbLogger(project="p", save_dir=str(tmp_path), log_model="all", mode="disabled")
    run = _Run()
    monkeypatch.setattr(RunWandbLogger, "experiment", property(lambda self: run))
    _remember(best, tmp_path / "best-step0000002.ckpt", 0.5, best=True)  # val/loss 0.5 at step 2 stays the best
    logger.after_save_checkpoint(best)
    for step in (2, 4):
        _remember(periodic, tmp_path / f"step000000{step}.ckpt", step, best=True)  # "max step" is its own best
        logger.after_save_checkpoint(periodic)
    tagged = [name for name, aliases in run.logged if "best" in aliases]
    assert tagged == ["best-step0000002.ckpt"]
    assert {name for name, _ in run.logged} >= {"step0000002.ckpt", "step0000004.ckpt"}


def test_credentials_leave_the_mode_to_wandb_settings(tmp_path: Path, monkeypatch) -> None:
    """A ~/.netrc must not force online over `wandb offline`: with credentials, W&B's settings decide."""
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert wandb_mode() == "offline"  # no credentials: never a login prompt
    (tmp_path / ".netrc").write_text("machine api.wandb.ai\n  login user\n  password x\n")
    assert wandb_mode() is None
    logger = build_logger(compose(None, ["logger.kind=wandb", f"output_root={tmp_path}"]), tmp_path)
    assert logger._wandb_init["mode"] is None  # wandb.init reads `wandb offline` / WANDB_MODE itself
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode() == "disabled"


@pytest.fixture(scope="module")
def trained(tiny_composer_run):
    return tiny_composer_run


def test_learning_rate_logged_and_workers_seeded(trained) -> None:
    _, result = trained
    rows = list(csv.DictReader(open(result.run_dir / "logs" / "metrics.csv")))
    lrs = [float(r["lr-AdamW"]) for r in rows if r.get("lr-AdamW")]
    assert len(lrs) >= 4 and all(lr > 0 for lr in lrs)
    assert os.environ.get("PL_SEED_WORKERS") == "1"  # L.seed_everything(seed, workers=True)
    assert result.trainer.datamodule.train_dataloader().sampler.world == 1


def test_deterministic_from_config(tmp_path: Path) -> None:
    from jen_composer.training.fit import build_trainer

    before = torch.are_deterministic_algorithms_enabled()
    try:
        build_trainer(compose(None, ["trainer.deterministic=true", "logger.kind=none", "trainer.accelerator=cpu",
                                     "trainer.progress_bar=false"]), tmp_path, [], False)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(before)
