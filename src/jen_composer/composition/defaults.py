"""Where `compose` and `studio` get their settings: the config, never a hand-built default.

schema defaults <- the checkpoint's embedded run config (its `composition:` group and
`composer.sampler`, as written in the experiment YAML it was trained with) <- ``key=value``
overrides on the command line. Command-line flags such as ``--steps`` apply on top of this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omegaconf import DictConfig

from jen_composer.core.config.loader import merge_checked, parse_overrides, schema, to_container
from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.settings import SamplerSettings

ALLOWED = "composition.* and composer.sampler.*"


@dataclass(frozen=True)
class SessionDefaults:
    composition: DictConfig  # the typed `composition` group (CompositionConfig)
    sampler: SamplerSettings  # new sessions start with these


def session_defaults(run_config: DictConfig | None, overrides: Sequence[str] = ()) -> SessionDefaults:
    """Resolve the `composition` group and sampler settings for sessions on an engine."""
    saved = None if run_config is None else to_container(run_config)  # choices as strings, as they are saved
    cfg = schema() if saved is None else merge_checked(schema(), saved, "the checkpoint's config")
    extra = parse_overrides(overrides)
    composer = extra.get("composer", {})
    stray = sorted(set(extra) - {"composition", "composer"}) + [f"composer.{k}" for k in composer if k != "sampler"]
    if stray:
        raise ConfigError(f"command line: only {ALLOWED} overrides apply here, got {', '.join(stray)}")
    cfg = merge_checked(cfg, extra, "command line")
    return SessionDefaults(cfg.composition, SamplerSettings.from_config(cfg.composer.sampler))
