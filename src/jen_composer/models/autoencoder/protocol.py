"""The interface every autoencoder (own VAE or codec adapter) offers to the latent cache and composer."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class AudioAutoencoder(Protocol):
    """``encode(wave [B, C, S]) -> z [B, d, ceil(S / hop)]`` (unit-scale), ``decode(z) -> wave``."""

    @property
    def hop(self) -> int: ...

    @property
    def latent_dim(self) -> int: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    def encode(self, wave: torch.Tensor) -> torch.Tensor: ...

    def decode(self, z: torch.Tensor, length: int | None = None) -> torch.Tensor: ...

    def checksum(self) -> str: ...
