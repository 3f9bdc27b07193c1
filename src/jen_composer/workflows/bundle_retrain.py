"""`jen-composer bundle --retrain`: rebuild the bundled weights from scratch and record how.

Trains the recipe's autoencoder and composer (`experiments/{autoencoder,composer}/<recipe>.yaml`)
with `train_pipeline`, then writes the slim bundle and a manifest with the exact command, commit,
resolved configs, stage times and this machine's speed, into a fresh folder that replaces the old
one only once complete.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jen_composer.core.config import to_container
from jen_composer.core.config.runinfo import git_info
from jen_composer.core.errors import CheckpointError, ConfigError
from jen_composer.core.io import atomic_dir, read_json_object
from jen_composer.core.machine import machine_facts
from jen_composer.core.weight_storage import NF_BITS
from jen_composer.inference.bundle import (
    BUNDLE_AUTOENCODER_DTYPE,
    BUNDLE_DIR,
    BUNDLE_DTYPE,
    SEEN,
    songs_seen_by,
    write_bundle,
)
from jen_composer.workflows.calibrated_export import DEFAULT_SONGS, calibrated_export
from jen_composer.workflows.train_pipeline import Stages, train_pipeline


def recipe_paths(root: Path, recipe: str) -> tuple[Path, Path]:
    paths = (root / "experiments" / "autoencoder" / f"{recipe}.yaml", root / "experiments" / "composer" / f"{recipe}.yaml")
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"{path}: recipe '{recipe}' not found (run from the repository root, or pick another --recipe)")
    return paths


def _autoencoder_data(cfg: Any, reused: dict[str, Any] | None) -> dict[str, Any]:
    """The data config the autoencoder trained on: its record's when reused (unknown: nothing), else the recipe's."""
    if reused is None:
        return dict(to_container(cfg)["data"])
    data = reused.get("record", {}).get("data")
    return dict(data) if isinstance(data, dict) else {}


def retrain_bundle(command: str, recipe: str, out: Path = BUNDLE_DIR, root: Path = Path("."),
                   ae_overrides: Sequence[str] = (), overrides: Sequence[str] = (),
                   log: Callable[[str], None] = print, note: str = "", autoencoder: Path | None = None,
                   autoencoder_record: Path | None = None, weights_dtype: str = BUNDLE_DTYPE,
                   autoencoder_dtype: str | None = BUNDLE_AUTOENCODER_DTYPE) -> Path:
    """Train from scratch and replace ``out`` with the new bundle; returns its manifest path. With
    ``autoencoder`` (an exported folder, and optionally the JSON record of how it was made) only the
    composer stage retrains, on that autoencoder's latents. ``autoencoder_dtype`` nf3 / nf4: the
    autoencoder's kernels are then rounded onto it by GPTQ on the first training songs of the composer's
    data (as the shipped bundle's were); None: stored as ``weights_dtype`` by nearest rounding."""
    if autoencoder_dtype is not None and autoencoder_dtype not in NF_BITS:
        raise ConfigError(f"autoencoder_dtype: {autoencoder_dtype} is not one of {', '.join(NF_BITS)} (calibrated rounding) or None")
    ae_experiment, composer_experiment = recipe_paths(root, recipe)
    reused = None
    if autoencoder is not None:
        reused = {"export": autoencoder.as_posix()}
        if autoencoder_record is not None:
            reused["record"] = read_json_object(autoencoder_record, CheckpointError)
    speed = machine_facts()
    stages = Stages(4, log)
    started = time.perf_counter()
    trained = train_pipeline(stages, ae_experiment, composer_experiment, ae_overrides, overrides, autoencoder)
    provenance = {
        "command": command,
        "recipe": recipe,
        "note": note,
        "experiments": [ae_experiment.as_posix(), composer_experiment.as_posix()],
        "overrides": {"autoencoder": list(ae_overrides), "composer": list(overrides)},
        "commit": git_info(root),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_seconds": {**{k: round(v, 1) for k, v in stages.seconds.items()},
                             "total": round(time.perf_counter() - started, 1)},
        "machine": speed,
        "config": {"autoencoder": to_container(trained.autoencoder_cfg), "composer": to_container(trained.composer_cfg)},
        SEEN: songs_seen_by([_autoencoder_data(trained.autoencoder_cfg, reused), to_container(trained.composer_cfg)["data"]]),
    }
    if reused is not None:  # the autoencoder stage copied this export instead of training the recipe's
        provenance["autoencoder_reused"] = reused
        provenance["config"]["autoencoder"] = None
    with atomic_dir(out) as staging, tempfile.TemporaryDirectory() as scratch:
        autoencoder_dir = trained.autoencoder
        if autoencoder_dtype is not None:
            log(f"rounding the autoencoder onto {autoencoder_dtype} by GPTQ on {DEFAULT_SONGS} training songs")
            data = trained.composer_cfg.data
            split = (int(data.split_seed), float(data.test_fraction), float(data.val_fraction))
            autoencoder_dir = calibrated_export(trained.autoencoder, Path(scratch) / "autoencoder", {}, autoencoder_dtype,
                                                Path(data.root), DEFAULT_SONGS, log=lambda _: None, split=split)
        write_bundle(trained.composer_checkpoint, autoencoder_dir, staging, provenance, weights_dtype,
                     autoencoder_dtype=autoencoder_dtype)
    return out / "manifest.json"
