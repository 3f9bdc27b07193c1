"""The spectral encoder/decoder pair: log-magnitude STFT in, magnitude + integrated phase out.

Why: a strided waveform encoder with little compression keeps the waveform's phase, so its latents
are white in time (lag-1 autocorrelation about 0 on the bench) and a diffusion model trained on them
generates broadband noise. This encoder sees only the STFT magnitude, so a sustained note gives a
slowly changing latent. The decoder predicts, per frame and bin, a log magnitude, a phase advance and a
phase offset; the phase is the running sum of the advances (each bin's centre-frequency advance plus
the predicted deviation) plus the offset. A constant latent (a held note) then yields a steadily
rotating phase, i.e. a coherent sinusoid, which a per-frame phase predictor cannot produce from a
constant input. Because the phase is integrated along the whole sequence, decoding runs in one pass
(see ``WaveformVAE.decode``); encoding is local and chunks exactly.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from jen_composer.models.autoencoder.layers import ResidualUnit, Snake, wn_conv1d

LOG_MAG_FLOOR = 1e-5
INITIAL_LOG_MAG = -4.0


def residual_stack(width: int, stacks: int, dilations: list[int], kernel_size: int) -> list[nn.Module]:
    return [ResidualUnit(width, d, kernel_size) for _ in range(stacks) for d in dilations]


class SpectralEncoder(nn.Module):
    """wave [B, C, S] (S a multiple of hop) -> features [B, out_channels, S / hop] from |STFT| only."""

    def __init__(
        self, channels: int, hop: int, n_fft: int, width: int, stacks: int, dilations: list[int], kernel_size: int,
        out_channels: int,
    ) -> None:
        super().__init__()
        self.hop, self.n_fft, self.bins = hop, n_fft, n_fft // 2 + 1
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        # log|STFT| lies in [log floor, log(n_fft / 2)] for audio in [-1, 1]: map that range to [-1, 1]
        # (an uncentred input of -11.5 in most bins made the first layers' activations huge)
        low, high = math.log(LOG_MAG_FLOOR), math.log(n_fft / 2)
        self.log_centre, self.log_half_range = (low + high) / 2, (high - low) / 2
        self.net = nn.Sequential(
            wn_conv1d(channels * self.bins, width, kernel_size, padding=kernel_size // 2),
            *residual_stack(width, stacks, dilations, kernel_size),
            Snake(width),
            wn_conv1d(width, out_channels, 3, padding=1),
        )

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        b, c, s = wave.shape
        frames = s // self.hop
        with torch.autocast(device_type=wave.device.type, enabled=False):
            spec = torch.stft(
                wave.reshape(b * c, s).float(), self.n_fft, self.hop, window=self.window, center=True,
                pad_mode="constant", return_complex=True,
            )[..., :frames]
            log_mag = spec.abs().clamp_min(LOG_MAG_FLOOR).log()
            feats = ((log_mag - self.log_centre) / self.log_half_range).reshape(b, c * self.bins, frames)
        return self.net(feats.to(wave.dtype) if wave.dtype != torch.float32 else feats)


class SpectralDecoder(nn.Module):
    """latent [B, d, L] -> wave [B, C, L * hop] through the inverse STFT."""

    def __init__(
        self, channels: int, hop: int, n_fft: int, width: int, stacks: int, dilations: list[int], kernel_size: int,
        latent_dim: int,
    ) -> None:
        super().__init__()
        self.channels, self.hop, self.n_fft, self.bins = channels, hop, n_fft, n_fft // 2 + 1
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        # phase advance per hop of each bin's centre frequency: 2 pi k hop / n_fft
        centre = 2 * math.pi * hop / n_fft * torch.arange(self.bins, dtype=torch.float32)
        self.register_buffer("centre_advance", centre[:, None], persistent=False)
        # |STFT| of audio in [-1, 1] is at most sum(window) = n_fft / 2: a soft ceiling on the log
        # magnitude there keeps one bad step from producing huge spectra (loss spikes in training)
        self.log_mag_max = math.log(n_fft / 2)
        self.net = nn.Sequential(
            wn_conv1d(latent_dim, width, kernel_size, padding=kernel_size // 2),
            *residual_stack(width, stacks, dilations, kernel_size),
            Snake(width),
            wn_conv1d(width, channels * 3 * self.bins, 3, padding=1),
        )
        with torch.no_grad():  # start quiet (magnitude ~e^-4 per bin) and near a constant output
            self.net[-1].parametrizations.weight.original0.mul_(0.1)
            self.net[-1].bias.view(channels, 3, self.bins)[:, 0] = INITIAL_LOG_MAG

    def log_magnitude(self, raw: torch.Tensor) -> torch.Tensor:
        """The network's magnitude output under the soft ceiling log(n_fft / 2)."""
        return self.log_mag_max - F.softplus(self.log_mag_max - raw)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b, _, frames = z.shape
        out = self.net(z)
        with torch.autocast(device_type=z.device.type, enabled=False):
            out = out.float().reshape(b * self.channels, 3, self.bins, frames)
            magnitude = self.log_magnitude(out[:, 0]).exp()
            advance = self.centre_advance + math.pi * torch.tanh(out[:, 1])
            phase = torch.cumsum(advance, dim=-1) + out[:, 2]
            wave = torch.istft(
                torch.polar(magnitude, phase), self.n_fft, self.hop, window=self.window, center=True,
                length=frames * self.hop,
            )
        return wave.reshape(b, self.channels, frames * self.hop).to(z.dtype)
