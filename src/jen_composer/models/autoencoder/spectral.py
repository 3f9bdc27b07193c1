"""The spectral encoder/decoder pair: log-magnitude STFT in, magnitude out, phase by Griffin-Lim.

Why: a strided waveform encoder with little compression keeps the waveform's phase, so its latents
are white in time (lag-1 autocorrelation about 0 on the bench) and a diffusion model trained on them
generates broadband noise. This encoder sees only the STFT magnitude, so a sustained note gives a
slowly changing latent. The decoder predicts the magnitude; training borrows the input's phase, so
every waveform loss measures the magnitudes, and decoding recovers a phase from the magnitudes with
fast Griffin-Lim. (A decoder that also predicted phase, tried first, put energy at the wrong
frequencies after 2000 steps: predicted phase and magnitude compensate each other.) Griffin-Lim works
on the whole sequence, so decoding runs in one pass (``WaveformVAE.decode``); encoding is local and
chunks exactly.
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
            spec = stft_frames(wave.reshape(b * c, s), self.n_fft, self.hop, self.window)
            log_mag = spec.abs().clamp_min(LOG_MAG_FLOOR).log()
            feats = ((log_mag - self.log_centre) / self.log_half_range).reshape(b, c * self.bins, frames)
        return self.net(feats.to(wave.dtype) if wave.dtype != torch.float32 else feats)


def stft_frames(wave: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    """Complex STFT [N, bins, S / hop] of wave [N, S] (S a multiple of hop): frame t centred on sample
    t * hop, zero padding at the ends (reflection fails on clips shorter than half a window)."""
    frames = wave.shape[-1] // hop
    return torch.stft(
        wave.float(), n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True
    )[..., :frames]


def griffin_lim(
    magnitude: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor, iters: int, momentum: float = 0.99
) -> torch.Tensor:
    """Fast Griffin-Lim (Perraudin et al. 2013): a waveform [N, L * hop] whose |STFT| approaches
    ``magnitude`` [N, bins, L]. Zero initial phase, so decoding is deterministic. torchaudio's version
    frames with reflection padding and one frame more than this module's STFT, hence this one."""
    length = magnitude.shape[-1] * hop
    angles = torch.ones_like(magnitude, dtype=torch.complex64)
    previous = torch.zeros_like(angles)
    for _ in range(iters):
        wave = torch.istft(magnitude * angles, n_fft, hop, window=window, center=True, length=length)
        rebuilt = stft_frames(wave, n_fft, hop, window)
        angles = rebuilt - previous * (momentum / (1 + momentum))
        angles = angles / angles.abs().clamp_min(1e-16)
        previous = rebuilt
    return torch.istft(magnitude * angles, n_fft, hop, window=window, center=True, length=length)


class SpectralDecoder(nn.Module):
    """latent [B, d, L] -> |STFT| [B, C, bins, L] -> wave [B, C, L * hop].

    The latents carry no phase, so the decoder predicts magnitudes only. In training the phase is the
    input's own (``forward(z, phase_source=wave)``): the waveform losses then measure the magnitudes
    alone. At decoding it is recovered from the magnitudes by Griffin-Lim (``phase_iters``).
    """

    def __init__(
        self, channels: int, hop: int, n_fft: int, width: int, stacks: int, dilations: list[int], kernel_size: int,
        latent_dim: int, phase_iters: int,
    ) -> None:
        super().__init__()
        self.channels, self.hop, self.n_fft, self.bins = channels, hop, n_fft, n_fft // 2 + 1
        self.phase_iters = phase_iters
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        # |STFT| of audio in [-1, 1] is at most sum(window) = n_fft / 2: a soft ceiling on the log
        # magnitude there keeps one bad step from producing huge spectra (loss spikes in training)
        self.log_mag_max = math.log(n_fft / 2)
        self.net = nn.Sequential(
            wn_conv1d(latent_dim, width, kernel_size, padding=kernel_size // 2),
            *residual_stack(width, stacks, dilations, kernel_size),
            Snake(width),
            wn_conv1d(width, channels * self.bins, 3, padding=1),
        )
        with torch.no_grad():  # start quiet (magnitude ~e^-4 per bin) and near a constant output
            self.net[-1].parametrizations.weight.original0.mul_(0.1)
            self.net[-1].bias.fill_(INITIAL_LOG_MAG)

    def log_magnitude(self, raw: torch.Tensor) -> torch.Tensor:
        """The network's output under the soft ceiling log(n_fft / 2)."""
        return self.log_mag_max - F.softplus(self.log_mag_max - raw)

    def magnitude(self, z: torch.Tensor) -> torch.Tensor:
        """|STFT| [B * C, bins, L] predicted from latents [B, d, L], in fp32."""
        b, _, frames = z.shape
        raw = self.net(z)
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self.log_magnitude(raw.float()).exp().reshape(b * self.channels, self.bins, frames)

    def forward(self, z: torch.Tensor, phase_source: torch.Tensor | None = None) -> torch.Tensor:
        b, _, frames = z.shape
        magnitude = self.magnitude(z)
        length = frames * self.hop
        with torch.autocast(device_type=z.device.type, enabled=False):
            if phase_source is None:
                wave = griffin_lim(magnitude, self.n_fft, self.hop, self.window, self.phase_iters)
            else:
                source = stft_frames(phase_source.reshape(b * self.channels, length), self.n_fft, self.hop, self.window)
                phase = source / source.abs().clamp_min(1e-12)
                wave = torch.istft(magnitude * phase, self.n_fft, self.hop, window=self.window, center=True, length=length)
        return wave.reshape(b, self.channels, length).to(z.dtype)
