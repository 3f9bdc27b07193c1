"""How model parameters are stored on disk: float32, float16, or int8 per slice.

The bundled weights ship inside the repository, so their bytes matter: an exported VAE
(`models/autoencoder/export.py`) and the bundled composer checkpoint (`inference/bundle.py`) use this.
Models always compute in float32: a load casts float16 parameters back and multiplies int8 ones by
their slice's scale. int8 applies to kernels and matrices with more than one slice along their first
dimension (output channels of a Conv1d or Linear, input channels of a ConvTranspose1d, weight norm's
per-channel magnitudes), each slice with its own scale. Everything else (biases, Snake's alphas of
shape [1, C, 1], norms: a small share of the bytes) stays float16. Buffers (latent statistics, STFT
windows) are never rounded.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from jen_composer.core.errors import ConfigError

STORAGE_DTYPES = ("float32", "float16", "int8")
SCALE_SUFFIX = ".int8_scale"  # beside every int8 tensor: one float32 scale per slice along dim 0


def pack(state: Mapping[str, torch.Tensor], parameters: set[str], dtype: str) -> dict[str, torch.Tensor]:
    """``state`` with the tensors named in ``parameters`` stored as ``dtype``."""
    if dtype not in STORAGE_DTYPES:
        raise ConfigError(f"weights_dtype: '{dtype}' is not one of {', '.join(STORAGE_DTYPES)}")
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if name not in parameters or not tensor.is_floating_point() or dtype == "float32":
            out[name] = tensor
        elif dtype == "int8" and tensor.dim() >= 2 and tensor.shape[0] > 1:
            flat = tensor.detach().float().reshape(tensor.shape[0], -1)
            scale = (flat.abs().amax(dim=1) / 127.0).clamp_min(torch.finfo(torch.float32).tiny)  # an all-zero slice: 0 / tiny
            out[name] = torch.round(flat / scale[:, None]).clamp(-127, 127).to(torch.int8).reshape(tensor.shape)
            out[name + SCALE_SUFFIX] = scale
        else:
            out[name] = tensor.to(torch.float16)
    return out


def unpack(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float state dict ``pack`` stored (int8 tensors times their scales; other dtypes as stored).
    ValueError when a scale does not fit its tensor (a damaged or hand-edited file)."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = tensors.get(name + SCALE_SUFFIX)
        if scale is not None:
            if tensor.dtype != torch.int8 or scale.shape != (tensor.shape[0],):
                raise ValueError(f"{name}: an int8 scale of shape {tuple(scale.shape)} beside a {tensor.dtype} "
                                 f"tensor of shape {tuple(tensor.shape)}")
            shape = (tensor.shape[0],) + (1,) * (tensor.dim() - 1)
            out[name] = tensor.float() * scale.float().reshape(shape)
        else:
            out[name] = tensor
    return out
