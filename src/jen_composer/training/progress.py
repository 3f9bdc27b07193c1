"""One progress bar per training run, counted in optimiser steps towards `trainer.max_steps`.

Lightning's own bars count batches per epoch ("Epoch 36/-2" when only max_steps is set) and add
a bar per validation run; this one shows what a step-based run means: step N of max_steps, the
latest losses, elapsed and remaining time. Without a terminal (a log file, CI) it prints one line
per tenth of the run instead. `ModelSummaryLine` names the model and its parameter counts in one
line, in place of Lightning's model summary table (whose FLOPs column reads 0 without an example input).
"""

from __future__ import annotations

import time
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_only

SHOWN = ("train/loss", "val/loss")


def summary_line(label: str, module: torch.nn.Module) -> str:
    """"train composer-tiny: ComposerModel, 1.2 M parameters (1.1 M trained)": the plain model inside the
    LightningModule (its ``model``), counted once (the EMA copy is not a submodule)."""
    model = getattr(module, "model", module)
    total = sum(p.numel() for p in model.parameters())
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return f"{label}: {type(model).__name__}, {_count(total)} parameters ({_count(trained)} trained)"


def _count(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return str(n)


class ModelSummaryLine(Callback):
    """Prints `summary_line` once per fit, with or without the progress bar."""

    def __init__(self, label: str) -> None:
        self.label = label

    @rank_zero_only
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        print(summary_line(self.label, pl_module), flush=True)


class StepProgressBar(Callback):
    def __init__(self, label: str) -> None:
        self.label = label
        self._progress: Any = None
        self._task: Any = None
        self._lines: tuple[int, float] | None = None  # (steps between lines, start time) without a terminal

    @rank_zero_only
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from rich.console import Console


        if not Console().is_terminal:
            self._lines = (max(1, int(trainer.max_steps) // 10), time.perf_counter())
            return
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
        metrics = trainer.callback_metrics
        losses = "  ".join(f"{k} {float(metrics[k]):.3f}" for k in SHOWN if k in metrics)
        if self._progress is not None:
            self._progress.update(self._task, completed=trainer.global_step, losses=losses)
        elif self._lines is not None and trainer.global_step % self._lines[0] == 0:
            elapsed = time.perf_counter() - self._lines[1]
            print(f"{self.label}: step {trainer.global_step}/{trainer.max_steps}, {elapsed:.0f} s, {losses}", flush=True)

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
