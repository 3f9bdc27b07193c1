"""Experiment loggers from `cfg.logger`: W&B (offline unless an API key is configured), CSV, TensorBoard."""

from __future__ import annotations

import os
from pathlib import Path

from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger, WandbLogger
from omegaconf import DictConfig

from jen_composer.core.config import to_container
from jen_composer.core.config.runinfo import git_info, run_id
from jen_composer.core.errors import ConfigError

LOGGER_KINDS = ("wandb", "csv", "tensorboard", "none")


def wandb_mode() -> str:
    """`WANDB_MODE` when set; otherwise online only if an API key is configured, else offline."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    has_key = bool(os.environ.get("WANDB_API_KEY")) or (Path.home() / ".netrc").is_file()
    return "online" if has_key else "offline"


def build_logger(cfg: DictConfig, folder: Path) -> Logger | bool:
    kind = cfg.logger.kind
    if kind == "csv":
        return CSVLogger(save_dir=str(folder), name="", version="logs")
    if kind == "tensorboard":
        return TensorBoardLogger(save_dir=str(folder), name="", version="tensorboard")
    if kind == "wandb":
        git = git_info(Path(__file__).parent)
        config = to_container(cfg) | {"run_id": run_id(cfg), "git_sha": git["sha"], "git_dirty": git["dirty"]}
        return WandbLogger(
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
