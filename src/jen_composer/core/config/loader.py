"""Compose a run config: schema defaults <- groups named in `defaults` <- experiment body <- CLI.

An experiment file looks like::

    defaults: [data/synth_tiny, composer/tiny, trainer/cpu]   # files in configs/<group>/<name>.yaml
    name: composer-tiny
    tags: [tiny, cpu]
    trainer: {max_steps: 300}

A default entry `group/name` merges `configs/group/name.yaml` under the root key `group`; an entry
`experiments/...` merges another experiment file whole (recipes that differ by one line use it).
Every source is checked against the typed schema first, so an unknown key or a wrong type fails
with the file, the dotted key and the closest valid key.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from jen_composer.core.config.root import RunConfig
from jen_composer.core.errors import ConfigError, one_line

GROUP_KEYS = tuple(RunConfig.__dataclass_fields__)


def schema() -> DictConfig:
    """A fresh typed config holding every default."""
    return OmegaConf.structured(RunConfig)


def find_project_root(start: Path) -> Path:
    """The nearest folder above ``start`` holding ``configs/`` (the repository root)."""
    for folder in [start, *start.parents]:
        if (folder / "configs").is_dir():
            return folder
    raise ConfigError(f"{start}: no 'configs/' folder found above this file")


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text YAML file (byte {exc.start} is not UTF-8)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {one_line(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def check_keys(node: Mapping[str, Any], ref: Any, source: str, prefix: str = "") -> None:
    """Raise ConfigError for the first key of ``node`` that the typed ``ref`` does not have."""
    if not isinstance(ref, DictConfig):
        return
    if ref._metadata.object_type in (None, dict):  # a free-form Dict[str, Any] field
        return
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if key not in ref:
            valid = [str(k) for k in ref.keys()]
            close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; valid keys here: {', '.join(valid)}"
            raise ConfigError(f"{source}: unknown key '{dotted}'{hint}")
        child = ref._get_node(key)
        if isinstance(value, Mapping):
            if isinstance(child, ListConfig) or not isinstance(child, DictConfig):
                raise ConfigError(f"{source}: key '{dotted}' is not a group; got a mapping")
            check_keys(value, child, source, dotted + ".")


def merge_checked(cfg: DictConfig, update: Mapping[str, Any], source: str) -> DictConfig:
    """Merge ``update`` into ``cfg`` after checking keys; type errors name the source and key."""
    check_keys(update, cfg, source)
    try:
        return OmegaConf.merge(cfg, update)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", "") or "?"
        reason = one_line(exc)
        raise ConfigError(f"{source}: bad value for '{key}': {reason}") from None


def _merge_file(cfg: DictConfig, path: Path, root: Path, seen: tuple[Path, ...]) -> DictConfig:
    if path in seen:
        raise ConfigError(f"{path}: circular 'defaults' ({' -> '.join(map(str, seen))})")
    body = _read_yaml(path)
    if not body:
        raise ConfigError(f"{path}: the experiment file is empty; it needs at least 'defaults' and 'name'")
    defaults = body.pop("defaults", [])
    if not isinstance(defaults, list):
        raise ConfigError(f"{path}: 'defaults' must be a list like [data/synth, composer/tiny]")
    for entry in defaults:
        cfg = _merge_default(cfg, str(entry), path, root, (*seen, path))
    return merge_checked(cfg, body, str(path))


def _merge_default(cfg: DictConfig, entry: str, owner: Path, root: Path, seen: tuple[Path, ...]) -> DictConfig:
    entry = entry.removesuffix(".yaml").strip("/")
    if entry.startswith("experiments/"):
        return _merge_file(cfg, root / f"{entry}.yaml", root, seen)
    group, _, name = entry.partition("/")
    if not name:
        raise ConfigError(f"{owner}: default '{entry}' must look like 'group/name'")
    if group not in GROUP_KEYS or not isinstance(cfg._get_node(group), DictConfig):
        groups = [k for k in GROUP_KEYS if isinstance(cfg._get_node(k), DictConfig)]
        close = difflib.get_close_matches(group, groups, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}/{name}'?" if close else f"; groups: {', '.join(groups)}"
        raise ConfigError(f"{owner}: unknown config group '{group}'{hint}")
    path = root / "configs" / group / f"{name}.yaml"
    if not path.is_file():
        options = sorted(p.stem for p in (root / "configs" / group).glob("*.yaml"))
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
        hint = f"; did you mean '{group}/{close[0]}'?" if close else f"; available: {', '.join(options)}"
        raise ConfigError(f"{owner}: default '{entry}' not found ({path}){hint}")
    body = _read_yaml(path)
    return merge_checked(cfg, {group: body}, str(path))


def parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """Turn ``key=value`` strings into a nested dict (values parsed as YAML)."""
    for item in overrides:
        if "=" not in item or item.startswith("="):
            raise ConfigError(f"command line: override '{item}' must look like key=value")
    # `key=` means the empty string (OmegaConf would read it as null, which str fields reject).
    items = [f"{item}''" if item.endswith("=") else item for item in overrides]
    try:
        return OmegaConf.to_container(OmegaConf.from_dotlist(items))  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        raise ConfigError(f"command line: {one_line(exc)}") from None


def compose(experiment: str | Path | None = None, overrides: Sequence[str] = ()) -> DictConfig:
    """Resolve an experiment file (or the bare schema) plus ``key=value`` overrides."""
    cfg = schema()
    if experiment is not None:
        path = Path(experiment).resolve()
        if not path.is_file():
            raise ConfigError(f"{experiment}: experiment file not found")
        cfg = _merge_file(cfg, path, find_project_root(path.parent), ())
    cfg = merge_checked(cfg, parse_overrides(overrides), "command line")
    OmegaConf.set_readonly(cfg, False)
    return cfg


def to_yaml(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg, resolve=True)


def from_container(data: Mapping[str, Any], source: str = "saved config") -> DictConfig:
    """Rebuild a typed config from a plain dict (a saved run config or a checkpoint's copy)."""
    return merge_checked(schema(), data, source)


def load_resolved(path: str | Path) -> DictConfig:
    """Reload a run's ``config.yaml``."""
    return from_container(_read_yaml(Path(path)), str(path))


def to_container(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
