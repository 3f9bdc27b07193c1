"""Which 4-bit (or 3-bit) storage can an exported autoencoder take and still pass its round-trip gate?

Why: the bundle's size is mostly the autoencoder's kernels. This writes float32 exports of one exported
autoencoder whose kernels (the tensors `core/weight_storage.py` rounds: two or more dimensions, more than
one slice) are rounded as each candidate storage would round them, and prints each one's relative weight
error; `jen-composer autoencoder roundtrip --autoencoder OUT/<name>` then scores each on real stems.
Candidates: nf4 per block of 64 (what `weight_storage` stores; QLoRA's block size) and of 128; evenly
spaced 4-bit levels (-7..7) per block of 64; NormalFloat with 8 levels (3 bits) per block of 64 and 32.
    python scripts/storage_candidates.py --autoencoder src/jen_composer/assets/bundle/autoencoder --out runs/storage
Figures: docs/results/autoencoder_bench.md (storage section).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from jen_composer.core.weight_storage import NF4_LEVELS, normal_float_levels, pack, unpack
from jen_composer.models.autoencoder import export_autoencoder, load_autoencoder


def blockwise(weight: torch.Tensor, levels: torch.Tensor, block: int) -> torch.Tensor:
    """``weight`` with each block of ``block`` values along a slice rounded to the nearest of ``levels``
    times the block's absolute maximum (zero padding at a slice's end, dropped)."""
    flat = weight.reshape(weight.shape[0], -1)
    pad = (-flat.shape[1]) % block
    blocks = torch.nn.functional.pad(flat, (0, pad)).reshape(flat.shape[0], -1, block)
    scale = blocks.abs().amax(dim=2, keepdim=True).clamp_min(1e-30)
    nearest = (blocks / scale).unsqueeze(-1).sub(levels).abs().argmin(dim=-1)
    return (levels[nearest] * scale).reshape(flat.shape[0], -1)[:, : flat.shape[1]].reshape(weight.shape)


CANDIDATES = {
    "nf4-64": (NF4_LEVELS, 64),
    "nf4-128": (NF4_LEVELS, 128),
    "int4-64": (torch.arange(-7, 8, dtype=torch.float32) / 7, 64),
    "nf3-64": (normal_float_levels(3), 64),
    "nf3-32": (normal_float_levels(3), 32),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autoencoder", required=True, help="exported autoencoder folder")
    parser.add_argument("--out", required=True, help="folder for one float32 export per candidate")
    parser.add_argument("--only", default=",".join(CANDIDATES), help="comma-separated candidate names")
    args = parser.parse_args()
    unknown = sorted(set(args.only.split(",")) - set(CANDIDATES))
    if unknown:
        parser.error(f"--only: unknown candidate(s) {', '.join(unknown)} (known: {', '.join(CANDIDATES)})")
    for name in args.only.split(","):
        levels, block = CANDIDATES[name]
        model = load_autoencoder(args.autoencoder)
        errors, count = [], 0
        with torch.no_grad():
            for _, weight in model.named_parameters():
                if weight.dim() < 2 or weight.shape[0] <= 1:
                    continue
                rounded = blockwise(weight, levels, block)
                errors.append(float((rounded - weight).norm() / weight.norm().clamp_min(1e-30)))
                count += weight.numel()
                weight.copy_(rounded)
        if name == "nf4-64":  # the library's own storage rounds exactly so (up to its float16 scales)
            state = {k: v for k, v in model.state_dict().items()}
            stored = unpack(pack(state, {k for k, _ in model.named_parameters()}, "nf4"))
            assert all(torch.allclose(stored[k].float(), v.float(), rtol=2e-3, atol=1e-6) for k, v in state.items()), name
        if not errors:
            parser.error(f"{args.autoencoder}: no kernels to round")
        export_autoencoder(model, Path(args.out) / name)
        print(f"{name}: {count} rounded values in {len(errors)} tensors, relative error mean {sum(errors) / len(errors):.4f}, "
              f"max {max(errors):.4f} -> {Path(args.out) / name}")


if __name__ == "__main__":
    main()
