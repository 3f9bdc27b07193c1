"""``SamplerSettings``: the one frozen value that says how to sample, from config to the sampler.

Its fields are ``core.config.composer.SamplerConfig``'s, copied field by field when this module is
imported, so a field added to the config group reaches the CLI, the REPL, the studio, session
files, the engine and the sampler without another edit. ``ALIASES`` are the short names people
type (``set cfg=2.5``, ``--sampler``); they map onto field names and are accepted everywhere.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from jen_composer.core.config.composer import SamplerConfig
from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.samplers import SAMPLERS, TIME_GRIDS

ALIASES = {"sampler": "name", "cfg": "text_guidance", "stem": "stem_guidance", "grid": "time_grid"}
MAX_GUIDANCE = 30.0  # a guidance scale beyond this only produces noise


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"'{value}' is not a boolean")
        return value.lower() in ("true", "1", "yes")
    return bool(value)


_CASTS = {"int": int, "float": float, "str": str, "bool": _as_bool}


class _SettingsBehaviour:
    """Methods of ``SamplerSettings`` (its fields are generated from ``SamplerConfig``)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            cast = _CASTS.get(str(f.type))
            value = getattr(self, f.name)
            if isinstance(value, DictConfig | ListConfig):
                value = OmegaConf.to_container(value)
            if isinstance(value, list):  # list fields become tuples: the settings stay hashable
                value = tuple(value)
            object.__setattr__(self, f.name, value)
            if cast is not None and not isinstance(value, bool if cast is _as_bool else cast):
                try:
                    object.__setattr__(self, f.name, cast(value))
                except (TypeError, ValueError):
                    raise ConfigError(f"sampler setting {f.name}: expected {f.type}, got {value!r}") from None
        s: Any = self
        if s.name not in SAMPLERS:
            raise ConfigError(f"sampler setting name: '{s.name}' is not one of {', '.join(SAMPLERS)}")
        if s.time_grid not in TIME_GRIDS:
            raise ConfigError(f"sampler setting time_grid: '{s.time_grid}' is not one of {', '.join(TIME_GRIDS)}")
        if s.steps < 1 and s.name != "ddpm":  # ddpm walks every level and ignores steps
            raise ConfigError(f"sampler setting steps: must be at least 1, got {s.steps}")
        if s.logsnr_points:
            if s.name == "ddpm" or len(s.logsnr_points) != s.steps - 1:
                raise ConfigError(f"sampler setting logsnr_points: {len(s.logsnr_points)} points for {s.steps} steps of "
                                  f"{s.name}; give steps - 1 = {s.steps - 1} (the grid points between T and 0), or none")
            try:
                points = tuple(float(v) for v in s.logsnr_points)
            except (TypeError, ValueError):
                raise ConfigError(f"sampler setting logsnr_points: expected numbers, got {s.logsnr_points!r}") from None
            if not all(math.isfinite(v) for v in points):
                raise ConfigError(f"sampler setting logsnr_points: every point must be finite, got {points}")
            object.__setattr__(self, "logsnr_points", points)
        for key in ("text_guidance", "stem_guidance"):
            if not 0.0 <= getattr(s, key) <= MAX_GUIDANCE:
                raise ConfigError(f"sampler setting {key}: must lie in [0, {MAX_GUIDANCE:g}], got {getattr(s, key)}")

    @classmethod
    def from_config(cls, cfg: Any) -> SamplerSettings:
        """From ``cfg.composer.sampler`` (a ``SamplerConfig`` or its OmegaConf node)."""
        return cls(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplerSettings:
        """From a stored dict (session.json, a request body); fields it lacks keep their defaults."""
        return cls().replace(data)  # type: ignore[call-arg, no-any-return]

    def replace(self, changes: Mapping[str, Any] | None = None, /, **more: Any) -> SamplerSettings:
        """A copy with some fields changed; aliases allowed, ``None`` values ignored, unknown names refused."""
        names = {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        update = {}
        for key, value in {**(changes or {}), **more}.items():
            field = ALIASES.get(key, key)
            if field not in names:
                known = ", ".join([*sorted(names), *sorted(ALIASES)])
                raise ConfigError(f"unknown sampler setting '{key}' (use {known})")
            if value is not None:
                update[field] = value
        return dataclasses.replace(self, **update)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


def _fields() -> list[tuple[str, Any, Any]]:
    out = []
    for f in dataclasses.fields(SamplerConfig):
        default = (dataclasses.field(default_factory=f.default_factory) if f.default is dataclasses.MISSING
                   else dataclasses.field(default=f.default))
        out.append((f.name, f.type, default))
    return out


if TYPE_CHECKING:
    class SamplerSettings(SamplerConfig, _SettingsBehaviour):  # what type checkers see
        ...
else:
    SamplerSettings = dataclasses.make_dataclass(
        "SamplerSettings", _fields(), bases=(_SettingsBehaviour,), frozen=True, kw_only=True,
    )
    SamplerSettings.__module__ = __name__
    SamplerSettings.__doc__ = "How to sample: one frozen copy of ``SamplerConfig``'s fields (see the module docstring)."
