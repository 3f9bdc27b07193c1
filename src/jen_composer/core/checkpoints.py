"""The one place that knows how a jen-composer checkpoint is laid out and read.

Training writes ``checkpoint[CHECKPOINT_KEY] = {"config", "run", "composer"}`` beside Lightning's
``state_dict``; export and inference read it back through these functions, so neither depends on
the training code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jen_composer.core.errors import CheckpointError

CHECKPOINT_KEY = "jen_composer"


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a Lightning checkpoint (weights-only unpickling); CheckpointError if missing or unusable."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: checkpoint not found")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a corrupt or foreign file
        raise CheckpointError(f"{p}: not a readable checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"{p}: not a Lightning checkpoint (no 'state_dict')")
    return ckpt


def checkpoint_step(path: str | Path) -> int:
    """The global step a Lightning checkpoint was saved at (memory-mapped: the weights are not read)."""
    import torch

    try:
        ckpt = torch.load(Path(path), map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # noqa: BLE001 - as in read_checkpoint
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    return int(ckpt.get("global_step", 0)) if isinstance(ckpt, dict) else 0


def embedded_info(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The jen-composer section of a checkpoint dict, created when absent (what training fills in)."""
    return checkpoint.setdefault(CHECKPOINT_KEY, {})


def read_composer_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by the composer task: it embeds its config and composer shape."""
    ckpt = read_checkpoint(path)
    info = ckpt.get(CHECKPOINT_KEY, {})
    if "config" not in info or "composer" not in info:
        raise CheckpointError(f"{path}: not a jen-composer composer checkpoint (no embedded config/composer state)")
    return ckpt
