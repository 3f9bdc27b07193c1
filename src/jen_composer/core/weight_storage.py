"""How model parameters are stored on disk: float32, float16, int8 per slice, or nf4 / nf3 per block.

The bundled weights ship inside the repository, so their bytes matter: an exported VAE
(`models/autoencoder/export.py`) and the bundled composer checkpoint (`inference/bundle.py`) use this.
Models always compute in float32: a load casts float16 parameters back and multiplies int8 ones by
their slice's scale. int8 applies to kernels and matrices with more than one slice along their first
dimension (output channels of a Conv1d or Linear, input channels of a ConvTranspose1d, weight norm's
per-channel magnitudes), each slice with its own scale. Everything else (biases, Snake's alphas of
shape [1, C, 1], norms: a small share of the bytes) stays float16. Buffers (latent statistics, STFT
windows) are never rounded.

nf4 (4-bit NormalFloat, Dettmers et al. 2023, "QLoRA") stores the same tensors in blocks of
``NF_BLOCK`` values along each slice: each block divided by its absolute maximum (one float16 scale
per block) and rounded to the nearest of 16 levels placed at quantiles of a normal distribution,
two levels per byte. A quarter of float16's bytes plus the scales (4.25 bits per value); trained
weights are near-normal, so the levels sit where the values are (smaller error than evenly spaced
4-bit levels, measured in docs/results/autoencoder_bench.md). nf3 is the same with 8 levels, eight
codes in three bytes (3.25 bits per value); rounded to the nearest level it costs the autoencoder's
pitch, so it is meant for weights rounded by `core/gptq.py` onto its grid (which `pack` then stores
exactly). A tensor whose slices hold one value each (weight norm's magnitudes, [C, 1, 1]) gains
nothing from a block scale and is stored as float16 under nf4 and nf3 (the same values: a block of one
value is its own float16 scale).

``STORAGE_DTYPES`` runs from the largest storage to the most compact (bits per value); a bundle keeps an
export's storage when it is more compact than the one asked for, since rounding it again would only add error.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from jen_composer.core.errors import ConfigError

STORAGE_DTYPES = ("float32", "float16", "int8", "nf4", "nf3")
SCALE_SUFFIX = ".int8_scale"  # beside every int8 tensor: one float32 scale per slice along dim 0
NF4_SCALE = ".nf4_scale"  # beside every nf4 tensor: float16 [slices, blocks], each block's absolute maximum
NF4_SHAPE = ".nf4_shape"  # ... and its shape (int64), since the codes are stored flat per slice
NF3_SCALE = ".nf3_scale"  # the same for nf3
NF3_SHAPE = ".nf3_shape"
NF_BLOCK = 64
NF4_BLOCK = NF_BLOCK
NF_BITS = {"nf4": 4, "nf3": 3}
_SUFFIXES = {"nf4": (NF4_SCALE, NF4_SHAPE), "nf3": (NF3_SCALE, NF3_SHAPE)}


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


NF4_LEVELS = normal_float_levels(4)
NF_LEVELS = {"nf4": NF4_LEVELS, "nf3": normal_float_levels(3)}


def is_storage_more_compact(dtype: str, than: str) -> bool:
    """Whether ``dtype`` comes after ``than`` in ``STORAGE_DTYPES`` (fewer bits per value)."""
    return STORAGE_DTYPES.index(dtype) > STORAGE_DTYPES.index(than)


def block_scales(flat: torch.Tensor) -> torch.Tensor:
    """Each block's absolute maximum as float16 stores it (back in float32): [slices, blocks] for a
    [slices, length] tensor, the last block of a slice zero-padded."""
    return blocks_of(flat).abs().amax(dim=2).to(torch.float16).float()


def blocks_of(flat: torch.Tensor) -> torch.Tensor:
    """[slices, length] -> [slices, blocks, NF_BLOCK] float32, the last block of a slice zero-padded."""
    pad = (-flat.shape[1]) % NF_BLOCK
    return torch.nn.functional.pad(flat.float(), (0, pad)).reshape(flat.shape[0], -1, NF_BLOCK)


def nearest_level(unit: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Index of the level nearest to each value of ``unit`` (values in block-scale units, clamped to [-1, 1])."""
    boundaries = (levels[1:] + levels[:-1]) / 2  # nearest level = count of midpoints below
    return torch.bucketize(unit.clamp(-1, 1), boundaries)


def _pack_codes(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """[slices, n] codes (n a multiple of 8) -> uint8: nf4 two codes a byte (low nibble first), nf3 eight
    codes in three bytes (little-endian 24-bit words, first code in the lowest bits)."""
    if bits == 4:
        return codes[:, 0::2] | (codes[:, 1::2] << 4)
    words = codes.long().reshape(codes.shape[0], -1, 8)
    word = (words << torch.arange(0, 24, 3)).sum(dim=2)
    return torch.stack([(word >> s) & 0xFF for s in (0, 8, 16)], dim=2).to(torch.uint8).reshape(codes.shape[0], -1)


def _unpack_codes(packed: torch.Tensor, bits: int) -> torch.Tensor:
    if bits == 4:
        return torch.stack([packed & 0x0F, packed >> 4], dim=2).reshape(packed.shape[0], -1).long()
    triples = packed.long().reshape(packed.shape[0], -1, 3)
    word = triples[..., 0] | (triples[..., 1] << 8) | (triples[..., 2] << 16)
    return ((word[..., None] >> torch.arange(0, 24, 3)) & 0x7).reshape(packed.shape[0], -1)


def _pack_nf(tensor: torch.Tensor, dtype: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(codes uint8 [slices, blocks * NF_BLOCK * bits / 8], scales float16 [slices, blocks]); a slice whose
    length is not a multiple of the block is padded with zeros (stored, dropped on load)."""
    flat = tensor.detach().float().reshape(tensor.shape[0], -1)
    blocks = blocks_of(flat)
    stored = block_scales(flat)  # the scale as stored is the one applied (subnormal too)
    unit = blocks / torch.where(stored > 0, stored, torch.ones_like(stored))[..., None]  # an all-zero block: 0
    codes = nearest_level(unit, NF_LEVELS[dtype]).to(torch.uint8).reshape(flat.shape[0], -1)
    return _pack_codes(codes, NF_BITS[dtype]), stored.to(torch.float16)


def _unpack_nf(name: str, dtype: str, codes: torch.Tensor, scale: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
    if shape.dim() != 1 or shape.dtype != torch.int64 or bool((shape < 0).any()):
        raise ValueError(f"{name}: an {dtype} shape must be a list of sizes (int64, 1-D), got {shape.dtype} {tuple(shape.shape)}")
    dims = tuple(int(d) for d in shape.tolist())
    slices = dims[0] if dims else 0
    length = int(torch.tensor(dims[1:]).prod()) if len(dims) > 1 else 0
    blocks = -(-length // NF_BLOCK)
    bits = NF_BITS[dtype]
    if (codes.dtype != torch.uint8 or len(dims) < 2 or codes.shape != (slices, blocks * NF_BLOCK * bits // 8)
            or scale.shape != (slices, blocks)):
        raise ValueError(f"{name}: {dtype} codes {codes.dtype} {tuple(codes.shape)} and scales {tuple(scale.shape)} "
                         f"do not fit a tensor of shape {dims}")
    levels = _unpack_codes(codes, bits).reshape(slices, blocks, NF_BLOCK)
    values = NF_LEVELS[dtype][levels] * scale.float()[..., None]
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
        elif dtype in NF_BITS and tensor.dim() >= 2 and tensor.shape[0] > 1 and tensor[0].numel() > 1:
            largest = float(tensor.detach().abs().max()) if tensor.numel() else 0.0
            if not largest <= torch.finfo(torch.float16).max:  # inf/NaN too: a float16 scale would hide them
                raise ConfigError(f"weights_dtype {dtype}: {name} holds {largest:g}, beyond the float16 block scales; "
                                  "store it as int8 or float32")
            scale_key, shape_key = _SUFFIXES[dtype]
            out[name], out[name + scale_key] = _pack_nf(tensor, dtype)
            out[name + shape_key] = torch.tensor(tensor.shape, dtype=torch.int64)
        else:
            out[name] = tensor.to(torch.float16)
    return out


def unpack(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float state dict ``pack`` stored (int8 tensors times their scales, nf4 / nf3 codes as their
    levels times their blocks' scales; other dtypes as stored). ValueError when a scale does not fit its
    tensor (a damaged or hand-edited file)."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if name.endswith((SCALE_SUFFIX, NF4_SCALE, NF4_SHAPE, NF3_SCALE, NF3_SHAPE)):
            continue
        stored_as = [d for d, keys in _SUFFIXES.items() if any(name + key in tensors for key in keys)]
        if stored_as:
            dtype = stored_as[0]
            scale_key, shape_key = _SUFFIXES[dtype]
            if len(stored_as) > 1 or name + scale_key not in tensors or name + shape_key not in tensors:
                raise ValueError(f"{name}: {dtype} codes without both their scales and their shape")
            out[name] = _unpack_nf(name, dtype, tensor, tensors[name + scale_key], tensors[name + shape_key])
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
