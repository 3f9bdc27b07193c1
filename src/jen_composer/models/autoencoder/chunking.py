"""Padding to the hop and chunked encode/decode of long audio without seams.

Each chunk is processed with ``margin`` extra context on both sides and the margin is cut away
again. When the margin covers the network's receptive field, the kept part is computed from the same
inputs as in one pass, so chunked and one-shot outputs agree up to float rounding: no seams, no
crossfade needed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Zero-pad the last axis up to a multiple of ``multiple``."""
    extra = (-x.shape[-1]) % multiple
    return F.pad(x, (0, extra)) if extra else x


def chunked_apply(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, chunk: int, margin: int, scale_num: int,
    scale_den: int,
) -> torch.Tensor:
    """Apply a length-scaling ``fn`` (out = in * num / den) chunk by chunk along the last axis.

    ``chunk`` and ``margin`` are in input steps and must be multiples of ``scale_den`` so that chunk
    boundaries map to whole output steps.
    """
    total = x.shape[-1]
    if total <= chunk + 2 * margin:
        return fn(x)
    pieces = []
    for start in range(0, total, chunk):
        stop = min(start + chunk, total)
        lo, hi = max(0, start - margin), min(total, stop + margin)
        y = fn(x[..., lo:hi])
        a = (start - lo) * scale_num // scale_den
        b = (stop - lo) * scale_num // scale_den
        pieces.append(y[..., a:b])
    return torch.cat(pieces, dim=-1)


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
