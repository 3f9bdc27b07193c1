"""Experiment loggers from `cfg.logger`: W&B (offline without credentials, else W&B's own settings), CSV, TensorBoard."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger, WandbLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from omegaconf import DictConfig

from jen_composer.core.config import to_container
from jen_composer.core.config.options import LoggerKind, choices
from jen_composer.core.config.runinfo import git_info, run_id
from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_write_text
from jen_composer.training.checkpointing import BEST_MONITOR

LOGGER_KINDS = choices(LoggerKind)


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


class _KeepingWriter(ExperimentWriter):
    """Lightning's CSV writer deletes an existing metrics.csv when it starts; a resumed run keeps the
    rows logged before the step it resumes from (later rows belong to the interrupted tail, which
    is trained and logged again)."""

    def __init__(self, log_dir: str, keep_before: int | None) -> None:
        self.keep_before = keep_before
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:
        path = Path(self.metrics_file_path)
        if self.keep_before is None or not path.is_file():
            super()._check_log_dir_exists()
            return
        with path.open(newline="") as file:
            reader = csv.DictReader(file)
            keys = list(reader.fieldnames or [])
            rows = [r for r in reader if _row_step(r) < self.keep_before]
        self.metrics_keys = sorted(keys)  # Lightning's own header order
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=self.metrics_keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(path, text.getvalue())


def _row_step(row: dict[str, str]) -> float:
    try:
        return float(row.get("step") or "inf")
    except ValueError:
        return float("inf")


class ResumableCSVLogger(CSVLogger):
    """`CSVLogger` whose metrics.csv survives `trainer.resume` (see `_KeepingWriter`)."""

    def __init__(self, *args: Any, keep_before: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_before = keep_before

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _KeepingWriter(self.log_dir, self._keep_before)
        return self._experiment


def build_logger(cfg: DictConfig, folder: Path, resume_step: int | None = None) -> Logger | bool:
    """``resume_step``: the step a resumed run continues from (its CSV log keeps what came before)."""
    kind = cfg.logger.kind
    if kind == "csv":
        return ResumableCSVLogger(save_dir=str(folder), name="", version="logs", keep_before=resume_step)
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
