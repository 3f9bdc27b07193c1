"""Autoencoder config group (`configs/autoencoder/`): the waveform VAE and its training losses."""

from __future__ import annotations

from dataclasses import dataclass, field


def _tiny_strides() -> list[int]:
    return [4, 4, 4]


@dataclass
class AutoencoderConfig:
    kind: str = "vae"  # vae | encodec | dac (adapters load pretrained codecs)
    pretrained: str = ""  # hub name or local path for adapters; exported artefact dir for vae
    sample_rate: int = 16000
    channels: int = 1
    latent_dim: int = 16
    base_channels: int = 32
    strides: list[int] = field(default_factory=_tiny_strides)  # product = hop
    bottleneck: str = "vae"  # vae | plain | tanh
    kl_weight: float = 1e-4
    l1_weight: float = 0.1
    stft_weight: float = 1.0
    mel_weight: float = 1.0
    adversarial: bool = False
    adversarial_start_step: int = 2000
    adversarial_weight: float = 0.1
    feature_matching_weight: float = 2.0
    lr: float = 3e-4
    ema_decay: float = 0.0  # 0 disables EMA
    chunk_seconds: float = 10.0  # chunked encode/decode of long audio
