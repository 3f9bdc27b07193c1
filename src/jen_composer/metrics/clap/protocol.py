"""What every CLAP scorer offers: text and audio embeddings in one joint space (unit-norm rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch

CLAP_SAMPLE_RATE = 48000


class ClapScorer(Protocol):
    """Text and audio embeddings in one joint space (unit-norm rows)."""

    def embed_audio(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """``wave [B, S]`` or ``[B, C, S]`` at ``sample_rate`` -> ``[B, E]``."""
        ...

    def embed_text(self, texts: Sequence[str]) -> torch.Tensor:
        """``texts`` (B strings) -> ``[B, E]``."""
        ...
