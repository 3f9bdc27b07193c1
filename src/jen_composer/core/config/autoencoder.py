"""Autoencoder config group (`configs/autoencoder/`): the waveform VAE and its training losses.

Optimiser, scheduler, gradient clipping and EMA of the autoencoder come from the shared
`trainer` group (`trainer.optimizer.*`, `trainer.ema_decay`), so they are not repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jen_composer.core.config.options import (
    AutoencoderArchitecture,
    AutoencoderKind,
    Bottleneck,
    SpectralPhase,
)


def _tiny_strides() -> list[int]:
    return [4, 4, 4]


def _tiny_mults() -> list[int]:
    return [2, 4, 8]


def _dilations() -> list[int]:
    return [1, 3, 9]


def _stft_fft_sizes() -> list[int]:
    return [2048, 1024, 512, 256, 128]


def _disc_fft_sizes() -> list[int]:
    return [2048, 1024, 512]


@dataclass
class AutoencoderConfig:
    kind: AutoencoderKind = AutoencoderKind.vae  # encodec / dac: adapters that load pretrained codecs
    pretrained: str = ""  # hub name or local path for adapters; exported artefact dir for vae
    # waveform: strided conv encoder/decoder (Jen-1). spectral: log-magnitude STFT in (no phase, so
    # latents are smooth in time), magnitude out, phase by Griffin-Lim at decoding; its width is
    # base_channels x channel_mults[-1], with one stack of residual units per stride
    architecture: AutoencoderArchitecture = AutoencoderArchitecture.waveform
    spectral_fft_size: int = 0  # spectral: STFT size (0 = 4 x hop)
    spectral_phase_iters: int = 32  # spectral: Griffin-Lim iterations when decoding
    # spectral: griffin_lim (phase from the magnitudes alone) or predicted (the decoder also predicts
    # each bin's phase advance per frame, trained on the input's, and decoding integrates it; Griffin-Lim
    # iterations then refine that phase)
    spectral_phase: SpectralPhase = SpectralPhase.griffin_lim
    phase_weight: float = 1.0  # spectral_phase=predicted: weight of the phase-advance loss
    # spectral_phase=predicted, decoding only: every bin takes the phase of its nearest spectral peak
    # (integrated from the peak's predicted advances, + pi per bin of distance), as in a phase vocoder
    # with identity phase locking; keeps a note's bins coherent, so the pitch survives the round trip
    spectral_phase_locking: bool = False
    sample_rate: int = 16000
    channels: int = 1
    latent_dim: int = 16
    base_channels: int = 32
    strides: list[int] = field(default_factory=_tiny_strides)  # product = hop
    channel_mults: list[int] = field(default_factory=_tiny_mults)  # width after each stride, x base
    dilations: list[int] = field(default_factory=_dilations)  # residual units per block
    kernel_size: int = 7
    bottleneck: Bottleneck = Bottleneck.vae
    kl_weight: float = 1e-4
    l1_weight: float = 0.1
    stft_weight: float = 1.0
    mel_weight: float = 1.0
    stft_fft_sizes: list[int] = field(default_factory=_stft_fft_sizes)  # hop = fft/4, win = fft
    mel_bins: int = 64  # mel loss and mel L1 metric
    train_crop_seconds: float = 0.0  # random crop of each training snippet (0 = whole snippet)
    adversarial: bool = False
    adversarial_start_step: int = 2000
    adversarial_weight: float = 0.1
    feature_matching_weight: float = 2.0
    disc_fft_sizes: list[int] = field(default_factory=_disc_fft_sizes)
    disc_channels: int = 32
    chunk_seconds: float = 10.0  # chunked encode/decode of long audio
    chunk_overlap_seconds: float = 0.5  # context on each side of a chunk (>= receptive field: no seams)
    latent_stats_batches: int = 16  # training batches used by compute_latent_stats after fit
