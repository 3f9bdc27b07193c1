"""How model parameters are stored on disk: float32, float16, int8 per slice, or nf4 per block.

The bundled weights ship inside the repository, so their bytes matter: an exported VAE
(`models/autoencoder/export.py`) and the bundled composer checkpoint (`inference/bundle.py`) use this.
Models always compute in float32: a load casts float16 parameters back and multiplies int8 ones by
their slice's scale. int8 applies to kernels and matrices with more than one slice along their first
dimension (output channels of a Conv1d or Linear, input channels of a ConvTranspose1d, weight norm's
per-channel magnitudes), each slice with its own scale. Everything else (biases, Snake's alphas of
shape [1, C, 1], norms: a small share of the bytes) stays float16. Buffers (latent statistics, STFT
windows) are never rounded.

nf4 (4-bit NormalFloat, Dettmers et al. 2023, "QLoRA") stores the same tensors in blocks of
``NF4_BLOCK`` values along each slice: each block divided by its absolute maximum (one float16 scale
per block) and rounded to the nearest of 16 levels placed at quantiles of a normal distribution,
two levels per byte. A quarter of float16's bytes plus the scales (4.25 bits per value); trained
weights are near-normal, so the levels sit where the values are (smaller error than evenly spaced
4-bit levels, measured in docs/results/autoencoder_bench.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from jen_composer.core.errors import ConfigError

STORAGE_DTYPES = ("float32", "float16", "int8", "nf4")
SCALE_SUFFIX = ".int8_scale"  # beside every int8 tensor: one float32 scale per slice along dim 0
NF4_SCALE = ".nf4_scale"  # beside every nf4 tensor: float16 [slices, blocks], each block's absolute maximum
NF4_SHAPE = ".nf4_shape"  # ... and its shape (int64), since the codes are stored flat per slice
NF4_BLOCK = 64


def normal_float_levels(bits: int = 4) -> torch.Tensor:
    """The NormalFloat levels in [-1, 1]: 2^(bits-1) positive and 2^(bits-1) - 1 negative quantiles of
    a standard normal (between probabilities 0.5 and 0.9677, QLoRA's offset) and an exact zero, scaled
    so the largest is 1. Exact zero keeps zero weights (padding, pruned channels) zero."""
    normal = torch.distributions.Normal(0.0, 1.0)
    offset = 0.9677083
    positive = normal.icdf(torch.linspace(offset, 0.5, 2 ** (bits - 1) + 1, dtype=torch.float64)[:-1])
    negative = -normal.icdf(torch.linspace(offset, 0.5, 2 ** (bits - 1), dtype=torch.float64)[:-1])
    levels = torch.cat([positive, torch.zeros(1, dtype=torch.float64), negative]).sort().values
    return (levels / levels.abs().max()).float()


NF4_LEVELS = normal_float_levels()


def _pack_nf4(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(codes uint8 [slices, blocks * NF4_BLOCK / 2], scales float16 [slices, blocks]); a slice whose
    length is not a multiple of the block is padded with zeros (stored, dropped on load)."""
    flat = tensor.detach().float().reshape(tensor.shape[0], -1)
    pad = (-flat.shape[1]) % NF4_BLOCK
    blocks = torch.nn.functional.pad(flat, (0, pad)).reshape(flat.shape[0], -1, NF4_BLOCK)
    scale = blocks.abs().amax(dim=2).to(torch.float16)  # the scale as stored is the one applied (subnormal too)
    stored = scale.float()
    unit = blocks / torch.where(stored > 0, stored, torch.ones_like(stored))[..., None]  # an all-zero block: 0
    boundaries = (NF4_LEVELS[1:] + NF4_LEVELS[:-1]) / 2  # nearest level = count of midpoints below
    codes = torch.bucketize(unit.clamp(-1, 1), boundaries).to(torch.uint8).reshape(flat.shape[0], -1)
    return codes[:, 0::2] | (codes[:, 1::2] << 4), scale


def _unpack_nf4(name: str, codes: torch.Tensor, scale: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
    if shape.dim() != 1 or shape.dtype != torch.int64 or bool((shape < 0).any()):
        raise ValueError(f"{name}: an nf4 shape must be a list of sizes (int64, 1-D), got {shape.dtype} {tuple(shape.shape)}")
    dims = tuple(int(d) for d in shape.tolist())
    slices = dims[0] if dims else 0
    length = int(torch.tensor(dims[1:]).prod()) if len(dims) > 1 else 0
    blocks = -(-length // NF4_BLOCK)
    if (codes.dtype != torch.uint8 or len(dims) < 2 or codes.shape != (slices, blocks * NF4_BLOCK // 2)
            or scale.shape != (slices, blocks)):
        raise ValueError(f"{name}: nf4 codes {codes.dtype} {tuple(codes.shape)} and scales {tuple(scale.shape)} "
                         f"do not fit a tensor of shape {dims}")
    levels = torch.stack([codes & 0x0F, codes >> 4], dim=2).reshape(slices, blocks, NF4_BLOCK).long()
    values = NF4_LEVELS[levels] * scale.float()[..., None]
    return values.reshape(slices, -1)[:, :length].reshape(dims)


def check_storage_dtype(dtype: str, key: str = "weights_dtype") -> str:
    """``dtype`` if it is a storage; else one line naming ``key`` (the config key or CLI flag it came from)."""
    if dtype not in STORAGE_DTYPES:
        raise ConfigError(f"{key}: '{dtype}' is not one of {', '.join(STORAGE_DTYPES)}")
    return dtype


def pack(state: Mapping[str, torch.Tensor], parameters: set[str], dtype: str) -> dict[str, torch.Tensor]:
    """``state`` with the tensors named in ``parameters`` stored as ``dtype``."""
    check_storage_dtype(dtype)
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if name not in parameters or not tensor.is_floating_point() or dtype == "float32":
            out[name] = tensor
        elif dtype == "int8" and tensor.dim() >= 2 and tensor.shape[0] > 1:
            flat = tensor.detach().float().reshape(tensor.shape[0], -1)
            scale = (flat.abs().amax(dim=1) / 127.0).clamp_min(torch.finfo(torch.float32).tiny)  # an all-zero slice: 0 / tiny
            out[name] = torch.round(flat / scale[:, None]).clamp(-127, 127).to(torch.int8).reshape(tensor.shape)
            out[name + SCALE_SUFFIX] = scale
        elif dtype == "nf4" and tensor.dim() >= 2 and tensor.shape[0] > 1:
            largest = float(tensor.detach().abs().max()) if tensor.numel() else 0.0
            if not largest <= torch.finfo(torch.float16).max:  # inf/NaN too: a float16 scale would hide them
                raise ConfigError(f"weights_dtype nf4: {name} holds {largest:g}, beyond the float16 block scales; "
                                  "store it as int8 or float32")
            out[name], out[name + NF4_SCALE] = _pack_nf4(tensor)
            out[name + NF4_SHAPE] = torch.tensor(tensor.shape, dtype=torch.int64)
        else:
            out[name] = tensor.to(torch.float16)
    return out


def unpack(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float state dict ``pack`` stored (int8 tensors times their scales, nf4 codes as their levels
    times their blocks' scales; other dtypes as stored). ValueError when a scale does not fit its
    tensor (a damaged or hand-edited file)."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if name.endswith((SCALE_SUFFIX, NF4_SCALE, NF4_SHAPE)):
            continue
        if name + NF4_SCALE in tensors or name + NF4_SHAPE in tensors:
            if name + NF4_SCALE not in tensors or name + NF4_SHAPE not in tensors:
                raise ValueError(f"{name}: nf4 codes without both their scales and their shape")
            out[name] = _unpack_nf4(name, tensor, tensors[name + NF4_SCALE], tensors[name + NF4_SHAPE])
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
