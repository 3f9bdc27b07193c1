"""Multi-scale complex-STFT discriminator with hinge and feature-matching losses.

Each scale looks at the real and imaginary STFT of every channel with a small 2-D conv stack
(strided in frequency, dilated in time). The STFT is taken in fp32 so bf16 autocast is safe.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm


class STFTDiscriminator(nn.Module):
    def __init__(self, channels: int, n_fft: int, width: int) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList([
            weight_norm(nn.Conv2d(2 * channels, width, (3, 9), padding=(1, 4))),
            weight_norm(nn.Conv2d(width, width, (3, 9), stride=(2, 1), dilation=(1, 1), padding=(1, 4))),
            weight_norm(nn.Conv2d(width, width, (3, 9), stride=(2, 1), dilation=(1, 2), padding=(1, 8))),
            weight_norm(nn.Conv2d(width, width, (3, 9), stride=(2, 1), dilation=(1, 4), padding=(1, 16))),
            weight_norm(nn.Conv2d(width, width, (3, 3), padding=(1, 1))),
        ])
        self.out = weight_norm(nn.Conv2d(width, 1, (3, 3), padding=(1, 1)))

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, c, s = wave.shape
        with torch.autocast(device_type=wave.device.type, enabled=False):
            spec = torch.stft(
                wave.float().reshape(b * c, s), self.n_fft, self.n_fft // 4, window=self.window,
                return_complex=True,
            )
        x = torch.view_as_real(spec).reshape(b, c, *spec.shape[1:], 2)  # [B, C, F, T, 2]
        x = x.permute(0, 1, 4, 2, 3).reshape(b, 2 * c, spec.shape[1], spec.shape[2])
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
            features.append(x)
        return self.out(x), features


class MultiScaleSTFTDiscriminator(nn.Module):
    """One STFTDiscriminator per FFT size; returns per-scale logits and feature maps."""

    def __init__(self, channels: int, fft_sizes: list[int], width: int) -> None:
        super().__init__()
        self.scales = nn.ModuleList([STFTDiscriminator(channels, n, width) for n in fft_sizes])

    def forward(self, wave: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        return [d(wave) for d in self.scales]


def discriminator_loss(real: list, fake: list) -> torch.Tensor:
    """Hinge loss of the discriminator (``fake`` computed from detached reconstructions)."""
    total = sum(F.relu(1 - r[0].float()).mean() + F.relu(1 + f[0].float()).mean() for r, f in zip(real, fake))
    return total / len(real)  # type: ignore[return-value]


def generator_adversarial_loss(fake: list) -> torch.Tensor:
    return sum(F.relu(1 - f[0].float()).mean() for f in fake) / len(fake)  # type: ignore[return-value]


def feature_matching_loss(real: list, fake: list) -> torch.Tensor:
    """L1 between feature maps, each normalised by the real map's mean magnitude."""
    terms = []
    for (_, feats_r), (_, feats_f) in zip(real, fake):
        for fr, ff in zip(feats_r, feats_f):
            fr = fr.detach().float()
            terms.append(F.l1_loss(ff.float(), fr) / (fr.abs().mean() + 1e-6))
    return torch.stack(terms).mean()
