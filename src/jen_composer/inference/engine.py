"""The generation contract a co-composition session needs, and the one loader of a real engine.

Sessions, the terminal loop and the studio talk only to ``Engine``; the real implementation is
``jen_composer.inference.pipeline.ComposerPipeline`` (imported lazily by ``load_engine``). The
deterministic ``FakeEngine`` that tests use lives in ``tests/fakes`` and is not part of the product.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from omegaconf import DictConfig

from jen_composer.core.errors import CheckpointError
from jen_composer.diffusion.settings import SamplerSettings

ProgressFn = Callable[[int, int], None]


@runtime_checkable
class Engine(Protocol):
    """Generates some tracks conditioned on a prompt and on kept tracks (all audio ``[C, S]`` float32)."""

    tracks: list[str]
    sample_rate: int
    channels: int
    checkpoint: str
    cfg: DictConfig | None  # the resolved run config it was trained with (None: an engine without one)

    def generate(
        self,
        prompt: str,
        kept: dict[str, np.ndarray],
        generate: list[str],
        *,
        seconds: float,
        seed: int,
        settings: SamplerSettings,
        reimagine: dict[str, float] | None = None,
        region: tuple[str, float, float] | None = None,
        progress: ProgressFn | None = None,
    ) -> dict[str, np.ndarray]: ...


def load_engine(ckpt: str) -> Engine:
    """The one way the CLI and studio get an engine: a composer checkpoint path."""
    if not Path(ckpt).exists():
        raise CheckpointError(f"{ckpt}: checkpoint not found (pass a composer .ckpt)")
    try:
        from jen_composer.inference.pipeline import ComposerPipeline
    except ImportError as exc:
        raise CheckpointError(
            f"{ckpt}: the inference pipeline (jen_composer.inference.pipeline) is unavailable: {exc}"
        ) from exc
    return ComposerPipeline.from_checkpoint(ckpt)
