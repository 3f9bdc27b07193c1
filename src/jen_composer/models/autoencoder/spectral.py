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
        return self.net(feats.to(wave.dtype))


def stft_frames(wave: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    """Complex STFT [N, bins, S / hop] of wave [N, S] (S a multiple of hop): frame t centred on sample
    t * hop, zero padding at the ends (reflection fails on clips shorter than half a window)."""
    frames = wave.shape[-1] // hop
    return torch.stft(
        wave.float(), n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True
    )[..., :frames]


def griffin_lim(
    magnitude: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor, iters: int, momentum: float = 0.99,
    angles: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fast Griffin-Lim (Perraudin et al. 2013): a waveform [N, L * hop] whose |STFT| approaches
    ``magnitude`` [N, bins, L]. Zero initial phase, so decoding is deterministic. torchaudio's version
    frames with reflection padding and one frame more than this module's STFT, hence this one.
    ``angles`` (unit complex, like magnitude) is the initial phase; zero phase when not given."""
    length = magnitude.shape[-1] * hop
    angles = torch.ones_like(magnitude, dtype=torch.complex64) if angles is None else angles
    previous = torch.zeros_like(angles)
    for _ in range(iters):
        wave = torch.istft(magnitude * angles, n_fft, hop, window=window, center=True, length=length)
        rebuilt = stft_frames(wave, n_fft, hop, window)
        angles = rebuilt - previous * (momentum / (1 + momentum))
        angles = angles / angles.abs().clamp_min(1e-16)
        previous = rebuilt
    return torch.istft(magnitude * angles, n_fft, hop, window=window, center=True, length=length)


def peak_locked_angles(magnitude: torch.Tensor, advance: torch.Tensor) -> torch.Tensor:
    """Unit phasors [N, bins, L] from magnitudes and per-bin phase advances [N, bins, L] with identity
    phase locking (Laroche & Dolson 1999): in each frame every bin takes the integrated phase of its
    nearest spectral peak, plus pi per bin of distance (a windowed sinusoid's neighbouring bins alternate
    in sign). Integrating each bin on its own lets the bins of one note drift apart; Griffin-Lim from
    magnitudes that are blurred across bins does not pull them back (docs/results/autoencoder_bench.md)."""
    phase = torch.cumsum(advance, dim=-1)
    bins = magnitude.shape[-2]
    k = torch.arange(bins, device=magnitude.device)[:, None].expand(magnitude.shape)
    lower = F.pad(magnitude[..., :-1, :], (0, 0, 1, 0), value=-1.0)  # each bin's neighbour below
    upper = F.pad(magnitude[..., 1:, :], (0, 0, 0, 1), value=-1.0)  # ... and above
    peak = (magnitude >= lower) & (magnitude > upper)  # the top of a plateau counts once; the maximum always
    below = torch.cummax(torch.where(peak, k, -2 * bins), dim=-2).values
    above = torch.cummin(torch.where(peak, k, 3 * bins).flip(-2), dim=-2).values.flip(-2)
    nearest = torch.where(k - below <= above - k, below, above).clamp(0, bins - 1)  # no peak (NaN frames): stay in range
    return torch.polar(torch.ones_like(magnitude), phase.gather(-2, nearest) + math.pi * (k - nearest))


def phase_advance_loss(advance: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """Magnitude-weighted anti-wrapping distance 1 - cos(a - d) between predicted phase advances
    ``advance`` [N, bins, L] and the source STFT's [N, bins, L] advances d from frame t - 1 to t.
    Only advances are supervised: a bin's absolute phase cannot be known from phase-free latents."""
    true = torch.angle(source[..., 1:] * source[..., :-1].conj())
    weight = (source[..., 1:].abs() * source[..., :-1].abs()).sqrt()
    distance = 1 - torch.cos(advance[..., 1:] - true)
    return (weight * distance).sum() / weight.sum().clamp_min(1e-8)


class SpectralDecoder(nn.Module):
    """latent [B, d, L] -> |STFT| [B, C, bins, L] (and, with ``predict_phase``, per-bin phase advances)
    -> wave [B, C, L * hop].

    The latents carry no phase. With Griffin-Lim phase the decoder predicts magnitudes only; training
    uses the input's own phase (``training_pass``), so the waveform losses measure the magnitudes, and
    decoding recovers a phase from the magnitudes (``phase_iters`` iterations). With ``predict_phase``
    it also predicts each bin's phase advance per frame (its centre frequency's plus a deviation of at
    most pi), supervised by the input's advances; decoding integrates them (a held latent gives steady
    sinusoids at the predicted frequencies) and Griffin-Lim refines from there. With ``phase_locking``
    the bins around each spectral peak share the peak's phase (`peak_locked_angles`).
    """

    def __init__(
        self, channels: int, hop: int, n_fft: int, width: int, stacks: int, dilations: list[int], kernel_size: int,
        latent_dim: int, phase_iters: int, predict_phase: bool = False, phase_locking: bool = False,
    ) -> None:
        super().__init__()
        if phase_locking and not predict_phase:
            raise ValueError("phase locking needs predicted phase advances")
        self.channels, self.hop, self.n_fft, self.bins = channels, hop, n_fft, n_fft // 2 + 1
        self.phase_iters, self.predict_phase, self.phase_locking = phase_iters, predict_phase, phase_locking
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        centre = 2 * math.pi * hop / n_fft * torch.arange(self.bins, dtype=torch.float32)
        self.register_buffer("centre_advance", centre[:, None], persistent=False)
        # |STFT| of audio in [-1, 1] is at most sum(window) = n_fft / 2: a soft ceiling on the log
        # magnitude there keeps one bad step from producing huge spectra (loss spikes in training)
        self.log_mag_max = math.log(n_fft / 2)
        heads = 2 if predict_phase else 1
        self.net = nn.Sequential(
            wn_conv1d(latent_dim, width, kernel_size, padding=kernel_size // 2),
            *residual_stack(width, stacks, dilations, kernel_size),
            Snake(width),
            wn_conv1d(width, channels * heads * self.bins, 3, padding=1),
        )
        with torch.no_grad():  # start quiet (magnitude ~e^-4 per bin) and near a constant output
            self.net[-1].parametrizations.weight.original0.mul_(0.1)
            self.net[-1].bias.view(channels, heads, self.bins)[:, 0] = INITIAL_LOG_MAG
            if predict_phase:
                self.net[-1].bias.view(channels, heads, self.bins)[:, 1] = 0.0

    def log_magnitude(self, raw: torch.Tensor) -> torch.Tensor:
        """The network's output under the soft ceiling log(n_fft / 2)."""
        return self.log_mag_max - F.softplus(self.log_mag_max - raw)

    def heads(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """|STFT| [B * C, bins, L] and phase advances (or None) from latents [B, d, L], in fp32."""
        b, _, frames = z.shape
        raw = self.net(z)
        with torch.autocast(device_type=z.device.type, enabled=False):
            raw = raw.float().reshape(b * self.channels, 2 if self.predict_phase else 1, self.bins, frames)
            magnitude = self.log_magnitude(raw[:, 0]).exp()
            advance = self.centre_advance + math.pi * torch.tanh(raw[:, 1]) if self.predict_phase else None
        return magnitude, advance

    def training_pass(self, z: torch.Tensor, source: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Reconstruction from the predicted magnitudes and the phase of ``source`` [B, C, L * hop], and
        the phase-advance loss when the decoder predicts phase."""
        b, _, frames = z.shape
        magnitude, advance = self.heads(z)
        length = frames * self.hop
        with torch.autocast(device_type=z.device.type, enabled=False):
            spec = stft_frames(source.reshape(b * self.channels, length), self.n_fft, self.hop, self.window)
            phase = spec / spec.abs().clamp_min(1e-12)
            wave = torch.istft(magnitude * phase, self.n_fft, self.hop, window=self.window, center=True, length=length)
            extra = {"phase": phase_advance_loss(advance, spec)} if advance is not None else {}
        return wave.reshape(b, self.channels, length).to(z.dtype), extra

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b, _, frames = z.shape
        magnitude, advance = self.heads(z)
        with torch.autocast(device_type=z.device.type, enabled=False):
            if advance is None:
                angles = None
            elif self.phase_locking:
                angles = peak_locked_angles(magnitude, advance)
            else:
                angles = torch.polar(torch.ones_like(advance), torch.cumsum(advance, dim=-1))
            wave = griffin_lim(magnitude, self.n_fft, self.hop, self.window, self.phase_iters, angles=angles)
        return wave.reshape(b, self.channels, frames * self.hop).to(z.dtype)
