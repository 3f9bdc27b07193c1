"""Continuous bottlenecks between encoder features and latents: vae (default), plain, tanh."""

from __future__ import annotations

import abc

import torch
from torch import nn
from torch.nn import functional as F

from jen_composer.core.errors import ConfigError


class Bottleneck(nn.Module, abc.ABC):
    """``forward(h) -> (z, kl)`` for training; ``mean(h) -> z`` is the deterministic encoding."""

    feature_factor: int = 1  # encoder output channels = feature_factor * latent_dim

    @abc.abstractmethod
    def mean(self, h: torch.Tensor) -> torch.Tensor:
        ...

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(h), h.new_zeros(())


class PlainBottleneck(Bottleneck):
    def mean(self, h: torch.Tensor) -> torch.Tensor:
        return h


class TanhBottleneck(Bottleneck):
    """Bounded latents in (-1, 1): no KL term needed to keep their scale in check."""

    def mean(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(h)


class VAEBottleneck(Bottleneck):
    """Diagonal Gaussian posterior; the encoding is its mean, training samples it and pays KL."""

    feature_factor = 2

    def _split(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, scale = h.float().chunk(2, dim=1)
        std = F.softplus(scale) + 1e-4  # softplus keeps the variance positive and gradients tame
        return mean, std

    def mean(self, h: torch.Tensor) -> torch.Tensor:
        return self._split(h)[0]

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, std = self._split(h)
        z = mean + std * torch.randn_like(mean) if self.training else mean
        var = std.pow(2)
        kl = 0.5 * (mean.pow(2) + var - torch.log(var) - 1.0).sum(dim=1).mean()
        return z, kl


BOTTLENECKS: dict[str, type[Bottleneck]] = {"vae": VAEBottleneck, "plain": PlainBottleneck, "tanh": TanhBottleneck}


def build_bottleneck(name: str) -> Bottleneck:
    if name not in BOTTLENECKS:
        raise ConfigError(f"autoencoder.bottleneck: unknown '{name}'; choose one of {', '.join(BOTTLENECKS)}")
    return BOTTLENECKS[name]()
