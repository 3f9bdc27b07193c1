"""The mix is the gain-scaled sum of the stems (paper 5.1: gains keep relative loudness)."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def mix_stems(stems: torch.Tensor, gains: Sequence[float] | torch.Tensor | None = None) -> torch.Tensor:
    """``stems [..., k, C, S]`` -> ``[..., C, S]``; ``gains [k]`` (None: stems are already gain-scaled,
    as in DataModule batches)."""
    if gains is None:
        return stems.sum(dim=-3)
    g = torch.as_tensor(gains, dtype=stems.dtype, device=stems.device)
    if g.shape != (stems.shape[-3],):
        raise ValueError(f"got {g.numel()} gains for {stems.shape[-3]} tracks")
    return (stems * g[:, None, None]).sum(dim=-3)
