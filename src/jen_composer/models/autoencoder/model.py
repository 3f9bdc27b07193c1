"""The Jen-1-style VAE on waveforms: encoder -> continuous bottleneck -> decoder.

``autoencoder.architecture`` picks the encoder/decoder pair: strided waveform convs (Jen-1) or the
spectral pair (|STFT| in, inverse STFT out; ``spectral.py``). Both take and return waveforms.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.config.options import AutoencoderArchitecture, SpectralPhase
from jen_composer.core.errors import ConfigError, one_line
from jen_composer.models.autoencoder.base import NormalisedAutoencoder
from jen_composer.models.autoencoder.bottleneck import build_bottleneck
from jen_composer.models.autoencoder.chunking import pad_to_multiple
from jen_composer.models.autoencoder.layers import Decoder, Encoder
from jen_composer.models.autoencoder.spectral import SpectralDecoder, SpectralEncoder

SPECTRAL_KEYS = ("architecture", "spectral_fft_size", "spectral_phase_iters", "spectral_phase", "phase_weight",
                 "spectral_phase_locking")
# keys that change decoding only: an exported model may be re-exported with other values (same weights,
# same latents); autoencoder.<key>=VALUE on `autoencoder export --autoencoder DIR`
DECODING_KEYS = ("spectral_phase_iters", "spectral_phase_locking")


def as_autoencoder_config(cfg: AutoencoderConfig | DictConfig | dict[str, Any]) -> DictConfig:
    """A typed copy of the autoencoder group (accepts the dataclass, a DictConfig or a plain dict)."""
    try:
        return OmegaConf.merge(OmegaConf.structured(AutoencoderConfig), cfg)  # type: ignore[return-value]
    except Exception as exc:  # omegaconf raises several types; give one clear line
        key = getattr(exc, "full_key", "")
        where = f"autoencoder.{key}" if key else "autoencoder config"
        raise ConfigError(f"{where}: {one_line(exc)}") from None


def config_dict(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[return-value]


def describe_config(cfg: DictConfig) -> dict[str, Any]:
    """JSON-able description of a VAE with config ``cfg`` (it enters the checksum)."""
    config = config_dict(cfg)
    if cfg.architecture == AutoencoderArchitecture.waveform:
        # the description enters the checksum: a waveform model describes itself as before the
        # spectral keys existed, so shipped bundles, exports and latent caches stay valid
        for key in SPECTRAL_KEYS:
            config.pop(key)
    elif not cfg.spectral_phase_locking:  # likewise a spectral model as before that key
        config.pop("spectral_phase_locking")
    return {"kind": "waveform_vae", "config": config}


class WaveformVAE(NormalisedAutoencoder):
    """``encode``: wave [B, C, S] -> unit-scale latents [B, d, ceil(S/hop)]; ``decode`` inverts it."""

    def __init__(self, cfg: AutoencoderConfig | DictConfig | dict[str, Any]) -> None:
        c: AutoencoderConfig = as_autoencoder_config(cfg)
        if len(c.channel_mults) != len(c.strides):
            raise ConfigError(
                f"autoencoder.channel_mults: needs one entry per stride ({len(c.strides)}), got {len(c.channel_mults)}"
            )
        if not c.strides or min(c.strides) < 1 or min(c.channels, c.latent_dim, c.sample_rate) < 1:
            raise ConfigError("autoencoder: strides, channels, latent_dim and sample_rate must be positive")
        super().__init__(c.latent_dim, c.chunk_seconds, c.chunk_overlap_seconds)
        self.cfg = c
        self.bottleneck = build_bottleneck(c.bottleneck)
        features = c.latent_dim * self.bottleneck.feature_factor
        if c.architecture == AutoencoderArchitecture.spectral:
            n_fft = int(c.spectral_fft_size) or 4 * self.hop
            if n_fft < self.hop:
                raise ConfigError(f"autoencoder.spectral_fft_size: must be at least the hop ({self.hop}), got {n_fft}")
            if c.spectral_phase_iters < 0:
                raise ConfigError(f"autoencoder.spectral_phase_iters: must be >= 0, got {c.spectral_phase_iters}")
            if c.spectral_phase_locking and c.spectral_phase != SpectralPhase.predicted:
                raise ConfigError("autoencoder.spectral_phase_locking: needs spectral_phase=predicted (the advances it locks)")
            spec = (c.channels, self.hop, n_fft, c.base_channels * c.channel_mults[-1], len(c.strides),
                    list(c.dilations), c.kernel_size)
            self.encoder: nn.Module = SpectralEncoder(*spec, features)
            self.decoder: nn.Module = SpectralDecoder(
                *spec, c.latent_dim, int(c.spectral_phase_iters), c.spectral_phase == SpectralPhase.predicted,
                bool(c.spectral_phase_locking),
            )
        else:
            arch = (c.channels, c.base_channels, list(c.channel_mults), list(c.strides), list(c.dilations), c.kernel_size)
            self.encoder = Encoder(*arch, features)
            self.decoder = Decoder(*arch, c.latent_dim)

    @property
    def hop(self) -> int:  # type: ignore[override]
        return math.prod(self.cfg.strides)

    @property
    def latent_dim(self) -> int:  # type: ignore[override]
        return int(self.cfg.latent_dim)

    @property
    def sample_rate(self) -> int:  # type: ignore[override]
        return int(self.cfg.sample_rate)

    @property
    def channels(self) -> int:  # type: ignore[override]
        return int(self.cfg.channels)

    def describe(self) -> dict[str, Any]:
        return describe_config(self.cfg)

    def encoding_description(self) -> dict[str, Any]:
        """``describe()`` with the decoding keys at their defaults: the checksum's part, so a re-export
        with another phase reconstruction keeps the checksum of the model it came from (and its caches)."""
        defaults = AutoencoderConfig()
        return describe_config(OmegaConf.merge(self.cfg, {k: getattr(defaults, k) for k in DECODING_KEYS}))

    def encode_raw(self, wave: torch.Tensor) -> torch.Tensor:
        """Posterior mean of wave [B, C, S] (S a multiple of hop) -> [B, d, S / hop], not normalised."""
        return self.bottleneck.mean(self.encoder(wave))

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor, length: int | None = None, chunk_seconds: float | None = None) -> torch.Tensor:
        """As the base class; the spectral decoder's Griffin-Lim works on the whole sequence: one pass."""
        if self.cfg.architecture == AutoencoderArchitecture.spectral:
            chunk_seconds = (z.shape[-1] + 1) * self.hop / self.sample_rate
        return super().decode(z, length, chunk_seconds)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training pass on raw latents: (reconstruction with the input's length, regularisers: ``kl`` and,
        for a spectral decoder that predicts phase, ``phase``); samples z."""
        self._check_wave(wave)
        padded = pad_to_multiple(wave, self.hop)
        z, kl = self.bottleneck(self.encoder(padded))
        if self.cfg.architecture == AutoencoderArchitecture.spectral:  # magnitudes with the input's phase
            recon, extra = self.decoder.training_pass(z, padded)
            return recon[..., : wave.shape[-1]], {"kl": kl, **extra}
        return self.decoder(z)[..., : wave.shape[-1]], {"kl": kl}
