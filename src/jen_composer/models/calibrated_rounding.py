"""A model's kernels rounded onto an nf4 / nf3 grid by GPTQ (`core/gptq.py`), layer after layer.

Why here: GPTQ needs each layer's inputs on calibration data, which only a forward pass of the model
gives. Layers are rounded in the order the forward pass meets them; each layer's inputs are taken
with the layers before it already rounded, so a layer corrects the error of those before it
(GPTQ's sequential order). Rounded this way: Conv1d (no groups, padding given as numbers) and Linear
kernels, plain or under weight norm, whose tensors `weight_storage.pack` stores as NormalFloat
blocks. Every other parameter (transposed convolutions, embeddings, attention projections held in
one tensor) is left as it is, for `pack` to round to the nearest level as before.

Weight norm (W = g v / |v|) stores the direction v and the magnitude g: v's rows are rounded (the
row factor g / |v| does not change which rounding is best for a row) and g is set to g |v_rounded| / |v| so that each
row's effective weight is the rounded direction times the factor it had before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
from torch import nn
from torch.nn import functional as F

from jen_composer.core.gptq import GramMatrix, gptq_round
from jen_composer.core.weight_storage import NF_BITS

Batch = TypeVar("Batch")


class _Enough(Exception):
    """Raised by the input hook: the rest of the forward pass is not needed."""


def _kernel(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(the tensor to round, the weight norm magnitude g or None)."""
    parametrizations = getattr(module, "parametrizations", None)
    if parametrizations is not None and "weight" in parametrizations:
        return parametrizations.weight.original1, parametrizations.weight.original0
    return module.weight, None


def roundable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The Conv1d / Linear layers whose kernels GPTQ rounds, in module order."""
    found = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) or (isinstance(module, nn.Conv1d) and module.groups == 1
                                             and not isinstance(module.padding, str)):
            kernel, _ = _kernel(module)
            if kernel.dim() >= 2 and kernel.shape[0] > 1 and kernel[0].numel() > 1:
                found.append((name, module))
    return found


def _input_rows(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layer's input as the rows its kernel multiplies: [positions, in_channels * kernel_size]."""
    if isinstance(module, nn.Linear):
        return x.reshape(-1, module.in_features)
    assert isinstance(module, nn.Conv1d)
    if module.padding_mode != "zeros":
        x = F.pad(x, module._reversed_padding_repeated_twice, mode=module.padding_mode)
    else:
        x = F.pad(x, (module.padding[0], module.padding[0]))
    (k,), (d,), (s,) = module.kernel_size, module.dilation, module.stride
    windows = x.unfold(2, (k - 1) * d + 1, s)[..., ::d]  # [B, C, positions, k]
    return windows.permute(0, 2, 1, 3).reshape(-1, module.in_channels * k)


@torch.no_grad()
def calibrated_rounding(model: nn.Module, batches: Sequence[Batch], forward: Callable[[nn.Module, Batch], object],
                        dtype: str, log: Callable[[str], None] = print) -> nn.Module:
    """A copy of ``model`` whose roundable kernels lie on ``dtype``'s grid, rounded by GPTQ on the inputs
    that ``forward(model, batch)`` feeds each layer over the calibration ``batches``."""
    if dtype not in NF_BITS:
        raise ValueError(f"calibrated rounding rounds onto {', '.join(NF_BITS)}, not {dtype}")
    model = copy.deepcopy(model).eval()
    layers = roundable_layers(model)
    for index, (name, module) in enumerate(layers):
        kernel, magnitude = _kernel(module)
        gram = GramMatrix(kernel[0].numel())

        def take(_: nn.Module, inputs: tuple[torch.Tensor, ...], module: nn.Module = module,
                 gram: GramMatrix = gram) -> None:
            gram.add(_input_rows(module, inputs[0].float()))
            raise _Enough

        handle = module.register_forward_pre_hook(take)
        try:
            for batch in batches:
                try:
                    forward(model, batch)
                except _Enough:
                    pass
        finally:
            handle.remove()
        if gram.rows == 0:
            raise ValueError(f"{name}: the calibration pass never reached this layer")
        flat = kernel.reshape(kernel.shape[0], -1)
        rounded = gptq_round(flat, gram.matrix, dtype)
        if magnitude is not None:
            norm = tuple(range(1, kernel.dim()))
            before = kernel.norm(dim=norm, keepdim=True)
            after = rounded.reshape(kernel.shape).norm(dim=norm, keepdim=True)
            ratio = torch.where(before > 0, after / before.clamp_min(torch.finfo(before.dtype).tiny), torch.ones_like(before))
            magnitude.mul_(ratio.reshape(magnitude.shape))
        kernel.copy_(rounded.reshape(kernel.shape))
        log(f"rounded {name} ({index + 1}/{len(layers)}) on {gram.rows} input rows")
    return model
