"""Exact resume: the python / numpy / torch (CPU and CUDA) RNG states and the data order travel with the checkpoint."""

from __future__ import annotations

import random
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch


def _numpy_state() -> dict[str, Any]:
    """numpy's state as tensors and plain numbers, so the checkpoint loads with weights_only=True."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _set_numpy_state(state: dict[str, Any]) -> None:
    keys = state["keys"].numpy().astype(np.uint32)
    np.random.set_state((state["name"], keys, state["pos"], state["has_gauss"], state["cached"]))


class ResumeStateCallback(pl.Callback):
    """Exact resume: restore the global RNGs and tell the data module where in its epoch the run stopped."""

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        checkpoint["rng_states"] = {
            "python": random.getstate(),
            "numpy": _numpy_state(),
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available():
            checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        loop = checkpoint.get("loops", {}).get("fit_loop", {})
        datamodule = getattr(trainer, "datamodule", None)
        if loop and hasattr(datamodule, "resume_at"):  # continue the data order where the run stopped
            epoch = int(loop["epoch_progress"]["current"]["processed"])
            batches = int(loop["epoch_loop.batch_progress"]["current"]["processed"])
            datamodule.resume_at(epoch, batches)
        states = checkpoint.get("rng_states")
        if states:
            random.setstate(states["python"])
            _set_numpy_state(states["numpy"])
            torch.set_rng_state(states["torch"])
            if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(states["cuda"])
