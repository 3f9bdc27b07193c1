"""Pretrained codecs behind the NormalisedAutoencoder interface: EnCodec (transformers) and DAC.

The continuous latent of a codec is its encoder output *before* residual vector quantisation
(EnCodec: ``hidden_size`` dims, DAC: ``latent_dim`` dims), and decoding runs the codec's decoder
on it directly, skipping the quantiser: the diffusion model works on continuous latents.
EnCodec 48 kHz normally rescales each 1 s chunk by its RMS before encoding; the adapter does not
(the scale would be a second, unnormalised latent stream), so it sees audio at its own level.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from jen_composer.core.errors import CheckpointError, one_line
from jen_composer.models.autoencoder.base import NormalisedAutoencoder

DAC_INSTALL_HINT = "pip install descript-audio-codec"


class EncodecAdapter(NormalisedAutoencoder):
    """transformers ``EncodecModel`` (24 kHz mono or 48 kHz stereo, or any local config)."""

    def __init__(self, model: Any, name_or_path: str, chunk_seconds: float = 10.0, overlap_seconds: float = 0.5) -> None:
        super().__init__(int(model.config.hidden_size), chunk_seconds, overlap_seconds)
        self.model = model.eval()
        self.name_or_path = name_or_path

    @classmethod
    def from_pretrained(cls, name_or_path: str, **kwargs: Any) -> EncodecAdapter:
        from transformers import EncodecModel

        try:
            model = EncodecModel.from_pretrained(name_or_path)
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{name_or_path}: cannot load EnCodec weights ({one_line(exc)})") from None
        return cls(model, name_or_path, **kwargs)

    @property
    def hop(self) -> int:  # type: ignore[override]
        return math.prod(self.model.config.upsampling_ratios)

    @property
    def latent_dim(self) -> int:  # type: ignore[override]
        return int(self.model.config.hidden_size)

    @property
    def sample_rate(self) -> int:  # type: ignore[override]
        return int(self.model.config.sampling_rate)

    @property
    def channels(self) -> int:  # type: ignore[override]
        return int(self.model.config.audio_channels)

    def describe(self) -> dict[str, Any]:
        return {"kind": "encodec", "pretrained": self.name_or_path, "config": self.model.config.to_dict()}

    def encode_raw(self, wave: torch.Tensor) -> torch.Tensor:
        return self.model.encoder(wave)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(z)[..., : z.shape[-1] * self.hop]


class DACAdapter(NormalisedAutoencoder):
    """Descript Audio Codec (``dac`` package, optional): ``dac_44khz`` / ``dac_24khz`` / ``dac_16khz`` or a .pth."""

    def __init__(self, model: Any, name_or_path: str, chunk_seconds: float = 10.0, overlap_seconds: float = 0.5) -> None:
        super().__init__(int(model.latent_dim), chunk_seconds, overlap_seconds)
        self.model = model.eval()
        self.name_or_path = name_or_path

    @classmethod
    def from_pretrained(cls, name_or_path: str, **kwargs: Any) -> DACAdapter:
        try:
            import dac
        except ImportError:
            raise CheckpointError(
                f"{name_or_path}: the DAC adapter needs the optional 'dac' package; install it with `{DAC_INSTALL_HINT}`"
            ) from None
        path = Path(name_or_path)
        try:
            if not path.exists() and name_or_path.startswith("dac_"):
                path = Path(dac.utils.download(model_type=name_or_path.removeprefix("dac_")))
            model = dac.DAC.load(str(path))
        except Exception as exc:  # dac raises assorted errors for bad files and failed downloads
            raise CheckpointError(f"{name_or_path}: cannot load DAC weights ({one_line(exc)})") from None
        return cls(model, name_or_path, **kwargs)

    @property
    def hop(self) -> int:  # type: ignore[override]
        return int(self.model.hop_length)

    @property
    def latent_dim(self) -> int:  # type: ignore[override]
        return int(self.model.latent_dim)

    @property
    def sample_rate(self) -> int:  # type: ignore[override]
        return int(self.model.sample_rate)

    @property
    def channels(self) -> int:  # type: ignore[override]
        return 1  # DAC models are mono

    def describe(self) -> dict[str, Any]:
        return {"kind": "dac", "pretrained": self.name_or_path}

    def encode_raw(self, wave: torch.Tensor) -> torch.Tensor:
        return self.model.encoder(wave)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(z)[..., : z.shape[-1] * self.hop]
