"""Train/val/test split by song (4:1 train:test, val carved from train), deterministic per seed.

Each song's place is decided by a hash of (seed, song_id), so the split does not depend on listing
order and adding songs moves few existing ones. ``<root>/splits.json`` is the manifest: a file the
user wrote (no ``"seed"`` key, e.g. a dataset's official split) is used as is; a generated one is
recomputed when the seed, fractions or song set change.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from jen_composer.core.errors import ConfigError, DataError
from jen_composer.core.io import atomic_write_json

SPLITS_FILE = "splits.json"
SPLIT_NAMES = ("train", "val", "test")
log = logging.getLogger(__name__)


def _rank(seed: int, song: str) -> str:
    return hashlib.sha256(f"{seed}:{song}".encode()).hexdigest()


def check_fractions(test_fraction: float, val_fraction: float) -> None:
    """Both fractions must lie in [0, 1): a fraction of 1 would leave no training songs."""
    for key, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 <= float(value) < 1.0:  # also false for NaN
            raise ConfigError(f"data.{key} (--{key.replace('_', '-')}) must be >= 0 and < 1, got {value}")


def make_splits(songs: list[str], seed: int, test_fraction: float, val_fraction: float) -> dict[str, Any]:
    """Deterministic split of ``songs``; with >= 2 songs and a positive fraction each split gets >= 1."""
    check_fractions(test_fraction, val_fraction)
    ordered = sorted(set(songs), key=lambda s: _rank(seed, s))
    n = len(ordered)
    n_test = round(n * test_fraction)
    if test_fraction > 0 and n >= 2:
        n_test = min(max(n_test, 1), n - 1)
    rest = n - n_test
    n_val = round(rest * val_fraction)
    if val_fraction > 0 and rest >= 2:
        n_val = min(max(n_val, 1), rest - 1)
    test, val, train = ordered[:n_test], ordered[n_test:n_test + n_val], ordered[n_test + n_val:]
    return {
        "seed": seed, "test_fraction": test_fraction, "val_fraction": val_fraction,
        "train": sorted(train), "val": sorted(val), "test": sorted(test),
    }


def _check_manifest(data: Any, path: Path) -> dict[str, list[str]]:
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected an object with train/val/test lists")
    seen: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for name in SPLIT_NAMES:
        items = data.get(name, [])
        if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
            raise DataError(f"{path}: '{name}' must be a list of song ids")
        for song in items:
            if song in seen:
                raise DataError(f"{path}: song '{song}' is in both '{seen[song]}' and '{name}'")
            seen[song] = name
        out[name] = list(items)
    return out


def resolve_splits(
    manifest_dir: Path, songs: list[str], seed: int, test_fraction: float, val_fraction: float
) -> dict[str, list[str]]:
    """The split to use for ``songs`` (all song folders, valid or not, so skipping never moves songs)."""
    path = Path(manifest_dir) / SPLITS_FILE
    wanted = make_splits(songs, seed, test_fraction, val_fraction)
    if not path.is_file():
        return {k: wanted[k] for k in SPLIT_NAMES}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON: {exc}") from None
    manifest = _check_manifest(data, path)
    if "seed" in data:  # generated: follow the config
        return {k: wanted[k] for k in SPLIT_NAMES}
    known = set(songs)
    listed = {s for items in manifest.values() for s in items}
    if listed - known:
        log.warning("%s lists %d song(s) not in the dataset; ignoring them", path, len(listed - known))
    if known - listed:
        log.warning("%s does not list %d song(s); they are not used", path, len(known - listed))
    return {k: [s for s in v if s in known] for k, v in manifest.items()}


def write_splits(
    manifest_dir: Path, songs: list[str], seed: int, test_fraction: float, val_fraction: float,
    force: bool = False,
) -> Path:
    """Write the generated split (keeps a user-written manifest unless ``force``)."""
    path = Path(manifest_dir) / SPLITS_FILE
    if path.is_file() and not force:
        try:
            if "seed" not in json.loads(path.read_text()):
                return path
        except json.JSONDecodeError:
            pass
    atomic_write_json(path, make_splits(songs, seed, test_fraction, val_fraction))
    return path
