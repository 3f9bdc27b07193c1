"""Which checkpoints a run keeps: the newest N every few steps, the best by `val/loss`, and `last.ckpt`.

Lightning's `ModelCheckpoint(monitor=...)` defers a step-triggered save on the last batch of an
epoch to the next validation, on the assumption that validation follows every epoch; with
step-based validation that skips the epoch-end checkpoint and keeps the wrong two. The periodic
callback here therefore saves strictly every N steps, and once more at the final step.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig

KEEP_PERIODIC = 2  # newest `stepNNNNNNN.ckpt` files kept
BEST_MONITOR = "val/loss"


class PeriodicCheckpoint(ModelCheckpoint):
    """`stepNNNNNNN.ckpt` every `every_n_train_steps`, the newest `keep` kept; `last.ckpt` links to the newest."""

    def __init__(self, dirpath: str, every_n_train_steps: int, keep: int = KEEP_PERIODIC) -> None:
        super().__init__(
            dirpath=dirpath, filename="step{step:07d}", auto_insert_metric_name=False, monitor="step", mode="max",
            every_n_train_steps=every_n_train_steps, save_top_k=keep, save_last="link",
            save_on_train_epoch_end=True,  # never defer a step save to a validation that may not come
        )

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The final step is always saved (and `last.ckpt` points at it), whatever N is."""
        if not self._should_skip_saving_checkpoint(trainer):
            candidates = self._monitor_candidates(trainer)
            self._save_topk_checkpoint(trainer, candidates)
            self._save_last_checkpoint(trainer, candidates)


def build_checkpoint_callbacks(cfg: DictConfig, folder: Path) -> tuple[ModelCheckpoint, ModelCheckpoint]:
    """(best by val/loss, periodic): the best one comes first, so `trainer.checkpoint_callback` is the best."""
    dirpath = str(folder / "checkpoints")
    best = ModelCheckpoint(
        dirpath=dirpath, filename="best-step{step:07d}", auto_insert_metric_name=False,
        monitor=BEST_MONITOR, mode="min", save_top_k=1, save_on_train_epoch_end=False,
    )
    periodic = PeriodicCheckpoint(dirpath, int(cfg.trainer.checkpoint_every_n_steps))
    return best, periodic
