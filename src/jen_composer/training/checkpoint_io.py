"""Checkpoint plumbing: atomic writes and the run metadata every checkpoint embeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.plugins.io import TorchCheckpointIO
from omegaconf import DictConfig

from jen_composer.core.checkpoints import embedded_info
from jen_composer.core.config import to_container
from jen_composer.core.config.runinfo import run_metadata
from jen_composer.core.io import atomic_torch_save


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write each checkpoint to a temporary sibling and rename it: a SIGKILL never leaves half a file."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        atomic_torch_save(checkpoint, Path(path))


class EmbedRunInfo(pl.Callback):
    """Put the resolved config and run metadata into every checkpoint, so a checkpoint alone rebuilds its model."""

    def __init__(self, cfg: DictConfig) -> None:
        self.payload = {"config": to_container(cfg), "run": run_metadata(cfg)}

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        embedded_info(checkpoint).update(self.payload)
