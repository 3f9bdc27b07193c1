"""Frozen pretrained parts (a FLAN-T5 text encoder): shared by the EMA, kept out of checkpoints.

A frozen submodule never changes during training, so averaging it is a copy and saving it stores
weights that its `name_or_path` already names. Checkpoints therefore leave it out and loaders take
it from the model they just built (which loaded it by name or path).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def _frozen(module: nn.Module) -> bool:
    params = list(module.parameters())
    return bool(params) and not any(p.requires_grad for p in params)


def frozen_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The outermost submodules whose every parameter is frozen, by qualified name."""
    found: dict[str, nn.Module] = {}
    for name, module in model.named_modules():
        if name and _frozen(module) and not any(name.startswith(f"{outer}.") for outer in found):
            found[name] = module
    return found


def frozen_prefixes(model: nn.Module, prefix: str = "") -> tuple[str, ...]:
    """State-dict key prefixes of the frozen submodules (`prefix` prepended, e.g. "model.")."""
    return tuple(f"{prefix}{name}." for name in frozen_modules(model))


def drop_frozen(state: dict[str, torch.Tensor], prefixes: tuple[str, ...]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if not k.startswith(prefixes)}


def fill_frozen(state: dict[str, torch.Tensor], live: Mapping[str, torch.Tensor], prefixes: tuple[str, ...]) -> None:
    """Put the live model's frozen weights into a checkpoint's `state` where it left them out."""
    for key, value in live.items():
        if key.startswith(prefixes) and key not in state:
            state[key] = value
