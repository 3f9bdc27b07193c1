"""One progress bar per training run, counted in optimiser steps towards `trainer.max_steps`.

Lightning's own bars count batches per epoch ("Epoch 36/-2" when only max_steps is set) and add
a bar per validation run; this one shows what a step-based run means: step N of max_steps, the
latest losses, elapsed and remaining time.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_only

SHOWN = ("train/loss", "val/loss")


class StepProgressBar(Callback):
    def __init__(self, label: str) -> None:
        self.label = label
        self._progress: Any = None
        self._task: Any = None

    @rank_zero_only
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
                                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[losses]}"))
        self._task = self._progress.add_task(self.label, total=max(1, int(trainer.max_steps)), completed=trainer.global_step,
                                             losses="")
        self._progress.start()

    @rank_zero_only
    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self._progress is None:
            return
        metrics = trainer.callback_metrics
        losses = "  ".join(f"{k} {float(metrics[k]):.3f}" for k in SHOWN if k in metrics)
        self._progress.update(self._task, completed=trainer.global_step, losses=losses)

    @rank_zero_only
    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.close()

    @rank_zero_only
    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
