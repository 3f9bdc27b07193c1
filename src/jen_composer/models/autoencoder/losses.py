"""Reconstruction objective: multi-resolution STFT + mel (auraloss), time-domain L1, KL.

Everything is computed in fp32 with autocast off, so the loss is identical under bf16-mixed.
"""

from __future__ import annotations

import auraloss
import torch
from omegaconf import DictConfig
from torch import nn
from torch.nn import functional as F

from jen_composer.core.config.autoencoder import AutoencoderConfig


def mrstft(fft_sizes: list[int], sample_rate: int | None = None, mel_bins: int | None = None) -> nn.Module:
    """auraloss multi-resolution STFT loss (spectral convergence + log magnitude), hop = n_fft / 4."""
    return auraloss.freq.MultiResolutionSTFTLoss(
        fft_sizes=list(fft_sizes),
        hop_sizes=[n // 4 for n in fft_sizes],
        win_lengths=list(fft_sizes),
        sample_rate=sample_rate,
        scale="mel" if mel_bins else None,
        n_bins=mel_bins,
    )


def mel_fft_sizes(fft_sizes: list[int], mel_bins: int) -> list[int]:
    """Resolutions fine enough in frequency for ``mel_bins`` filters (no empty mel bands)."""
    usable = [n for n in fft_sizes if n >= 8 * mel_bins]
    return usable or [max(fft_sizes)]


class ReconstructionLoss(nn.Module):
    """``forward(recon, target, regularisers) -> dict`` with ``loss`` and each weighted term for logging;
    ``regularisers`` is the model's second output (``kl``, and ``phase`` for a phase-predicting decoder)."""

    def __init__(self, cfg: AutoencoderConfig | DictConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stft = mrstft(list(cfg.stft_fft_sizes))
        self.mel = mrstft(mel_fft_sizes(list(cfg.stft_fft_sizes), cfg.mel_bins), cfg.sample_rate, cfg.mel_bins)

    def forward(
        self, recon: torch.Tensor, target: torch.Tensor, regularisers: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        with torch.autocast(device_type=recon.device.type, enabled=False):
            recon, target = recon.float(), target.float()
            terms = {
                "stft": self.cfg.stft_weight * self.stft(recon, target),
                "mel": self.cfg.mel_weight * self.mel(recon, target),
                "l1": self.cfg.l1_weight * F.l1_loss(recon, target),
                "kl": self.cfg.kl_weight * regularisers["kl"].float(),
            }
            if "phase" in regularisers:
                terms["phase"] = self.cfg.phase_weight * regularisers["phase"].float()
        terms["loss"] = sum(terms.values())  # type: ignore[assignment]
        return terms
