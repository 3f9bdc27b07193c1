"""Calibrated rounding (GPTQ, Frantar et al. 2022) onto the NormalFloat block grids of `weight_storage`.

Why: rounded to the nearest level, 3-bit NormalFloat costs the bundled autoencoder its pitch
(docs/results/autoencoder_bench.md). GPTQ rounds a layer's weight one input column at a time and
spreads each column's rounding error over the columns not yet rounded, weighted by the inverse of
H = X^T X, the Gram matrix of the layer's inputs X on calibration data: the layer's output on those
inputs moves less than under nearest rounding, for the same bits.

The result lies exactly on the grid that `weight_storage.pack` stores: each block's scale is fixed
from the weight before rounding (its absolute maximum, as float16 holds it), and the value that set it
is rounded to the extreme level of its sign, so the rounded block's absolute maximum is that scale
again. `pack` therefore stores the rounded weight without changing a value, and packing it a second
time at the same storage changes nothing either.
"""

from __future__ import annotations

import torch

from jen_composer.core.weight_storage import NF_BLOCK, NF_LEVELS, block_scales, blocks_of, nearest_level

DEFAULT_DAMP = 0.01  # GPTQ's own default share of the mean diagonal


class GramMatrix:
    """Accumulates H = sum of x^T x over calibration rows x ([rows, columns], a layer's unfolded inputs)."""

    def __init__(self, columns: int) -> None:
        self.matrix = torch.zeros(columns, columns, dtype=torch.float64)
        self.rows = 0

    def add(self, rows: torch.Tensor) -> None:
        x = rows.detach().reshape(-1, self.matrix.shape[0]).double()
        self.matrix += x.T @ x
        self.rows += x.shape[0]


def gptq_round(weight: torch.Tensor, gram: torch.Tensor, dtype: str, damp: float = DEFAULT_DAMP,
               act_order: bool = True, batch: int = 128) -> torch.Tensor:
    """``weight`` [rows, columns] rounded onto ``dtype``'s (nf4 / nf3) grid, blocks of ``NF_BLOCK`` along each
    row as `pack` lays them out, minimising the change of ``weight @ x`` over the calibration inputs whose
    Gram matrix is ``gram`` [columns, columns]. ``damp`` (a share of the mean diagonal, added to it) keeps
    the inverse finite when some inputs never vary; ``act_order`` rounds the columns of largest input
    energy first (GPTQ's activation order), which the fixed block scales allow in any order."""
    if weight.dim() != 2 or gram.shape != (weight.shape[1], weight.shape[1]):
        raise ValueError(f"gptq_round: a weight [rows, columns] and a Gram matrix [columns, columns], "
                         f"got {tuple(weight.shape)} and {tuple(gram.shape)}")
    largest = float(weight.detach().abs().max()) if weight.numel() else 0.0
    if not largest <= torch.finfo(torch.float16).max:  # inf / NaN too: the float16 block scales cannot hold it
        raise ValueError(f"a weight holds {largest:g}, beyond {dtype}'s float16 block scales")
    levels = NF_LEVELS[dtype].double()
    w = weight.detach().double().clone()
    rows, columns = w.shape
    scales = block_scales(weight.detach().float()).double()  # [rows, blocks]: fixed before any rounding
    column_scale = scales.repeat_interleave(NF_BLOCK, dim=1)[:, :columns]
    padded = blocks_of(w.abs())
    first = padded.argmax(dim=2) + torch.arange(padded.shape[1]) * NF_BLOCK  # the value that sets each block's scale
    sets_scale = torch.zeros(rows, columns + (-columns) % NF_BLOCK, dtype=torch.bool)
    sets_scale.scatter_(1, first, True)
    sets_scale = sets_scale[:, :columns] & (column_scale > 0)
    extreme = torch.sign(w) * column_scale  # what a scale-setting value is rounded to

    h = gram.detach().double().clone()
    diagonal = torch.diagonal(h)
    diagonal[diagonal == 0] = 1.0  # inputs never seen: their columns are rounded on their own
    diagonal += damp * float(diagonal.mean())
    order = torch.argsort(torch.diagonal(h), descending=True) if act_order else torch.arange(columns)
    w, h = w[:, order], h[order][:, order]
    column_scale, sets_scale, extreme = column_scale[:, order], sets_scale[:, order], extreme[:, order]
    try:
        upper = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    except torch.linalg.LinAlgError as exc:  # non-finite inputs; raise damp otherwise
        raise ValueError(f"the inputs' Gram matrix is not positive definite even damped by {damp:g} ({exc})") from None

    rounded = torch.zeros_like(w)
    for start in range(0, columns, batch):
        end = min(start + batch, columns)
        part, errors = w[:, start:end].clone(), torch.zeros(rows, end - start, dtype=torch.float64)
        for i in range(end - start):
            j = start + i
            scale = column_scale[:, j]
            unit = part[:, i] / torch.where(scale > 0, scale, torch.ones_like(scale))
            value = levels[nearest_level(unit, levels)] * scale
            value = torch.where(sets_scale[:, j], extreme[:, j], value)
            rounded[:, j] = value
            errors[:, i] = (part[:, i] - value) / upper[j, j]
            part[:, i:] -= errors[:, i:i + 1] * upper[j, j:end][None, :]
        w[:, end:] -= errors @ upper[start:end, end:]
    restored = torch.empty_like(rounded)
    restored[:, order] = rounded
    return restored.to(weight.dtype)
