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


def lag1_autocorrelation(z: torch.Tensor) -> tuple[float, int]:
    """Mean over latent channels of the correlation of each frame with the next (``z [B, d, L]``), and
    how many channel rows entered it (rows with no variation are skipped).

    Why: a diffusion model has to generate these sequences. Near 1 the latent is smooth in time
    (spectral-envelope-like, easy to denoise from its neighbours); near 0 each frame is as good as
    independent of the next (phase-like, as hard as generating the waveform itself)."""
    z = z.double()
    a, b = z[..., :-1] - z[..., :-1].mean(-1, keepdim=True), z[..., 1:] - z[..., 1:].mean(-1, keepdim=True)
    den = (a.pow(2).sum(-1) * b.pow(2).sum(-1)).sqrt()
    ok = den > 1e-12
    if not bool(ok.any()):
        return float("nan"), 0
    corr = (a * b).sum(-1)[ok] / den[ok]
    return float(corr.mean()), int(ok.sum())
