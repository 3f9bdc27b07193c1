"""Experiment loggers from `cfg.logger`: W&B (offline without credentials, else W&B's own settings), CSV, TensorBoard."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger, WandbLogger
from omegaconf import DictConfig

from jen_composer.core.config import to_container
from jen_composer.core.config.runinfo import git_info, run_id
from jen_composer.core.errors import ConfigError
from jen_composer.training.checkpointing import BEST_MONITOR

LOGGER_KINDS = ("wandb", "csv", "tensorboard", "none")


def wandb_mode() -> str | None:
    """`WANDB_MODE` when set; with credentials, None: W&B's own settings decide (so `wandb offline` holds);
    without credentials, offline (no login prompt)."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    has_key = bool(os.environ.get("WANDB_API_KEY")) or (Path.home() / ".netrc").is_file()
    return None if has_key else "offline"


class _LatestOnly:
    """A checkpoint callback as the W&B logger sees it: its files are uploaded as `latest`, never `best`."""

    best_model_path = ""

    def __init__(self, callback: ModelCheckpoint) -> None:
        self._callback = callback

    def __getattr__(self, name: str) -> Any:
        return getattr(self._callback, name)


class RunWandbLogger(WandbLogger):
    """Gives the `best` artifact alias only to the best `val/loss` checkpoint.

    Lightning's logger aliases each callback's own best; the periodic callback's "best" is its
    newest step, which would take the alias away from the best validation loss.
    """

    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        if checkpoint_callback.monitor != BEST_MONITOR:
            checkpoint_callback = _LatestOnly(checkpoint_callback)  # type: ignore[assignment]
        super().after_save_checkpoint(checkpoint_callback)


def build_logger(cfg: DictConfig, folder: Path) -> Logger | bool:
    kind = cfg.logger.kind
    if kind == "csv":
        return CSVLogger(save_dir=str(folder), name="", version="logs")
    if kind == "tensorboard":
        return TensorBoardLogger(save_dir=str(folder), name="", version="tensorboard")
    if kind == "wandb":
        git = git_info(Path(__file__).parent)
        config = to_container(cfg) | {"run_id": run_id(cfg), "git_sha": git["sha"], "git_dirty": git["dirty"]}
        return RunWandbLogger(
            project=cfg.logger.project,
            entity=cfg.logger.entity or None,
            group=cfg.logger.group or None,
            job_type=cfg.logger.job_type or None,
            name=f"{cfg.name}-{run_id(cfg)}",
            tags=list(cfg.tags),
            notes=cfg.notes or None,
            save_dir=str(folder),
            mode=wandb_mode(),
            log_model="all" if cfg.logger.log_checkpoints else False,
            config=config,
        )
    if kind == "none":
        return False
    raise ConfigError(f"logger.kind: unknown logger '{kind}'; choose one of {', '.join(LOGGER_KINDS)}")
