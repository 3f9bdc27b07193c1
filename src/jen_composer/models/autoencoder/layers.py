"""Convolutional building blocks of the waveform VAE (weight-normed convs, Snake, residual units).

Weight norm uses ``torch.nn.utils.parametrizations.weight_norm``: the kernel is recomputed from the
fp32 parameters on every call, so under bf16 autocast the norm stays in fp32 and only the
convolution itself runs in bf16.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


def wn_conv1d(*args: object, **kwargs: object) -> nn.Module:
    return weight_norm(nn.Conv1d(*args, **kwargs))  # type: ignore[arg-type]


def wn_conv_transpose1d(*args: object, **kwargs: object) -> nn.Module:
    return weight_norm(nn.ConvTranspose1d(*args, **kwargs))  # type: ignore[arg-type]


class Snake(nn.Module):
    """x + sin^2(a x) / a with a learned per-channel a: a periodic prior that suits audio."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha = self.alpha.to(x.dtype)
        return x + (alpha + 1e-9).reciprocal() * torch.sin(alpha * x).pow(2)


class ResidualUnit(nn.Module):
    """Dilated conv + 1x1 conv with a skip; length-preserving ('same' padding)."""

    def __init__(self, channels: int, dilation: int, kernel_size: int) -> None:
        super().__init__()
        pad = (kernel_size - 1) * dilation // 2
        self.block = nn.Sequential(
            Snake(channels),
            wn_conv1d(channels, channels, kernel_size, dilation=dilation, padding=pad),
            Snake(channels),
            wn_conv1d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class EncoderBlock(nn.Module):
    """Residual units at the input rate, then a strided conv (length / stride exactly)."""

    def __init__(self, c_in: int, c_out: int, stride: int, dilations: list[int], kernel_size: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            *[ResidualUnit(c_in, d, kernel_size) for d in dilations],
            Snake(c_in),
            wn_conv1d(c_in, c_out, 2 * stride, stride=stride, padding=(stride + 1) // 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class DecoderBlock(nn.Module):
    """A transposed conv (length x stride exactly), then residual units at the output rate."""

    def __init__(self, c_in: int, c_out: int, stride: int, dilations: list[int], kernel_size: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Snake(c_in),
            wn_conv_transpose1d(
                c_in, c_out, 2 * stride, stride=stride, padding=(stride + 1) // 2, output_padding=stride % 2
            ),
            *[ResidualUnit(c_out, d, kernel_size) for d in dilations],
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class Encoder(nn.Module):
    """wave [B, C, S] (S a multiple of hop) -> features [B, out_channels, S / hop]."""

    def __init__(
        self, channels: int, base: int, mults: list[int], strides: list[int], dilations: list[int],
        kernel_size: int, out_channels: int,
    ) -> None:
        super().__init__()
        widths = [base] + [base * m for m in mults]
        layers: list[nn.Module] = [wn_conv1d(channels, base, kernel_size, padding=kernel_size // 2)]
        for i, stride in enumerate(strides):
            layers.append(EncoderBlock(widths[i], widths[i + 1], stride, dilations, kernel_size))
        layers += [Snake(widths[-1]), wn_conv1d(widths[-1], out_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """latent [B, d, L] -> wave [B, C, L * hop]; mirrors the encoder."""

    def __init__(
        self, channels: int, base: int, mults: list[int], strides: list[int], dilations: list[int],
        kernel_size: int, latent_dim: int,
    ) -> None:
        super().__init__()
        widths = [base] + [base * m for m in mults]
        layers: list[nn.Module] = [wn_conv1d(latent_dim, widths[-1], kernel_size, padding=kernel_size // 2)]
        for i in reversed(range(len(strides))):
            layers.append(DecoderBlock(widths[i + 1], widths[i], strides[i], dilations, kernel_size))
        layers += [Snake(base), wn_conv1d(base, channels, kernel_size, padding=kernel_size // 2)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
