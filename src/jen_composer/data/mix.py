"""The mix, defined once: the gain-scaled sum of the stems (paper 5.1: gains keep relative loudness).

Metrics score the plain sum. Only what is written for people to listen to (stems folders, previews)
is scaled down when its peak exceeds ``data.audio.SAFE_PEAK``, so a loud sum is quieter, never clipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np
import torch

from jen_composer.core.tracks import MIX

__all__ = ["MIX", "mix_stems"]


Audio = TypeVar("Audio", np.ndarray, torch.Tensor)


def mix_stems(stems: Audio | Sequence[Audio] | Mapping[str, Audio], gains: Sequence[float] | None = None,
              peak_limit: float | None = None, dim: int = 0) -> Audio:
    """Sum the stems along ``dim`` (a list or dict of stems is stacked along 0); numpy or torch as given.

    ``gains [k]`` scale each stem (None: already gain-scaled, as in DataModule batches);
    ``peak_limit`` scales each mix (everything after the batch dims) down when its peak is above it.
    """
    items = list(stems.values()) if isinstance(stems, Mapping) else stems
    is_numpy = isinstance(items, np.ndarray) or (isinstance(items, Sequence) and isinstance(items[0], np.ndarray))
    if isinstance(items, Sequence):
        if not items:
            raise ValueError("nothing to mix: no stems")
        items = torch.stack([torch.as_tensor(np.asarray(s, np.float32) if is_numpy else s) for s in items])
        dim = 0
    x = torch.as_tensor(items)
    dim = dim % x.dim()
    if gains is not None:
        g = torch.as_tensor(gains, dtype=x.dtype, device=x.device)
        if g.shape != (x.shape[dim],):
            raise ValueError(f"got {g.numel()} gains for {x.shape[dim]} tracks")
        x = x * g.reshape(-1, *([1] * (x.dim() - dim - 1)))
    mix = x.sum(dim=dim)
    if peak_limit is not None:
        peak = mix.abs().amax(dim=tuple(range(dim, mix.dim())), keepdim=True) if mix.dim() > dim else mix.abs()
        mix = torch.where(peak > peak_limit, mix / peak.clamp_min(1e-12) * peak_limit, mix)
    return mix.numpy() if is_numpy else mix  # type: ignore[return-value]
