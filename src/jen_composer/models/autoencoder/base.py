"""``NormalisedAutoencoder``: the interface and shared machinery of every autoencoder (own VAE, codecs).

Subclasses provide ``encode_raw`` / ``decode_raw`` (lengths a multiple of ``hop``) and the
properties; this base adds the stored latent statistics (normalisation), padding/trimming to any
input length, chunked processing of long audio and the checksum.
"""

from __future__ import annotations

import abc
import hashlib
import json
import math
from typing import Any

import torch
from torch import nn

from jen_composer.models.autoencoder.chunking import chunked_apply, pad_to_multiple, round_up


class NormalisedAutoencoder(nn.Module, abc.ABC):
    def __init__(self, latent_dim: int, chunk_seconds: float, overlap_seconds: float) -> None:
        super().__init__()
        self.chunk_seconds = float(chunk_seconds)
        self.overlap_seconds = float(overlap_seconds)
        self.register_buffer("latent_mean", torch.zeros(latent_dim))
        self.register_buffer("latent_std", torch.ones(latent_dim))

    # subclasses: hop, latent_dim, sample_rate, channels, encode_raw, decode_raw, describe
    hop: int
    latent_dim: int
    sample_rate: int
    channels: int

    @abc.abstractmethod
    def encode_raw(self, wave: torch.Tensor) -> torch.Tensor:
        ...

    @abc.abstractmethod
    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        ...

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able description of the architecture (enters the checksum and config.json)."""
        ...

    # -- normalisation --------------------------------------------------------------------------
    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.latent_mean[:, None].to(z)) / self.latent_std[:, None].to(z)

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std[:, None].to(z) + self.latent_mean[:, None].to(z)

    # -- public API -----------------------------------------------------------------------------
    def _check_wave(self, wave: torch.Tensor) -> None:
        if wave.dim() != 3 or wave.shape[1] != self.channels:
            raise ValueError(f"expected wave [B, {self.channels}, S], got {list(wave.shape)}")

    def _chunk_sizes(self, chunk_seconds: float | None) -> tuple[int, int]:
        """Chunk and margin in latent frames (at least one frame each)."""
        seconds = self.chunk_seconds if chunk_seconds is None else chunk_seconds
        frames = max(1, round(seconds * self.sample_rate / self.hop))
        margin = max(1, math.ceil(self.overlap_seconds * self.sample_rate / self.hop))
        return frames, margin

    def encode(self, wave: torch.Tensor, chunk_seconds: float | None = None) -> torch.Tensor:
        """wave [B, C, S] -> unit-scale z [B, d, ceil(S / hop)]; long inputs go in overlapping chunks."""
        self._check_wave(wave)
        frames, margin = self._chunk_sizes(chunk_seconds)
        x = pad_to_multiple(wave, self.hop)
        raw = chunked_apply(self.encode_raw, x, frames * self.hop, margin * self.hop, 1, self.hop)
        return self.normalise(raw)

    def decode(self, z: torch.Tensor, length: int | None = None, chunk_seconds: float | None = None) -> torch.Tensor:
        """z [B, d, L] -> wave [B, C, L * hop], trimmed to ``length`` samples when given."""
        if z.dim() != 3 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents [B, {self.latent_dim}, L], got {list(z.shape)}")
        frames, margin = self._chunk_sizes(chunk_seconds)
        wave = chunked_apply(self.decode_raw, self.denormalise(z), frames, margin, self.hop, 1)
        return wave if length is None else wave[..., :length]

    def latent_frames(self, samples: int) -> int:
        return round_up(samples, self.hop) // self.hop

    def encoding_description(self) -> dict[str, Any]:
        """The description without settings that change decoding only (the checksum's part of it)."""
        return self.describe()

    def checksum(self) -> str:
        """sha256 of the description and every weight/buffer: what produced a latent cache. Decoding-only
        settings do not enter it, so a re-export with another phase reconstruction keeps its caches."""
        return self._hash(self.encoding_description())

    def full_checksum(self) -> str:
        """The same over the whole description, decoding settings included: what exports recorded before
        ``encoding_description`` existed (a load accepts either)."""
        return self._hash(self.describe())

    def _hash(self, description: dict[str, Any]) -> str:
        h = hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode())
        for name, tensor in sorted(self.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        return h.hexdigest()[:16]
