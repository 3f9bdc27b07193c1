"""Reconstruction quality measures: SI-SDR (torchmetrics), multi-resolution STFT distance, mel L1."""

from __future__ import annotations

import torch
import torchaudio
from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

from jen_composer.models.autoencoder.losses import mel_fft_sizes, mrstft

DEFAULT_FFT_SIZES = [2048, 1024, 512, 256, 128]


class ReconstructionMetrics(torch.nn.Module):
    """``forward(recon, target) -> {si_sdr, mrstft, mel_l1}`` as floats averaged over the batch."""

    def __init__(self, sample_rate: int, mel_bins: int = 64, fft_sizes: list[int] | None = None) -> None:
        super().__init__()
        sizes = list(fft_sizes or DEFAULT_FFT_SIZES)
        self.stft = mrstft(sizes)
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=max(mel_fft_sizes(sizes, mel_bins)), hop_length=256, n_mels=mel_bins,
        )

    @torch.no_grad()
    def forward(self, recon: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        recon, target = recon.float(), target.float()
        si_sdr = scale_invariant_signal_distortion_ratio(recon, target, zero_mean=True)
        log_mel = lambda x: torch.log(self.mel(x) + 1e-5)  # noqa: E731
        return {
            "si_sdr": float(si_sdr.mean()),
            "mrstft": float(self.stft(recon, target)),
            "mel_l1": float((log_mel(recon) - log_mel(target)).abs().mean()),
        }
