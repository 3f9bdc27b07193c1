"""`jen-composer bundle --retrain`: rebuild the bundled weights from scratch and record how.

Trains the recipe's autoencoder and composer (`experiments/{autoencoder,composer}/<recipe>.yaml`)
with `train_pipeline`, then writes the slim bundle and a manifest with the exact command, commit,
resolved configs, stage times and this machine's speed, into a fresh folder that replaces the old
one only once complete.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from jen_composer.core.config import to_container
from jen_composer.core.config.runinfo import git_info
from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_dir
from jen_composer.core.machine import machine_facts
from jen_composer.inference.bundle import BUNDLE_DIR, SEEN, songs_seen_by, write_bundle
from jen_composer.workflows.train_pipeline import Stages, train_pipeline


def recipe_paths(root: Path, recipe: str) -> tuple[Path, Path]:
    paths = (root / "experiments" / "autoencoder" / f"{recipe}.yaml", root / "experiments" / "composer" / f"{recipe}.yaml")
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"{path}: recipe '{recipe}' not found (run from the repository root, or pick another --recipe)")
    return paths


def retrain_bundle(command: str, recipe: str, out: Path = BUNDLE_DIR, root: Path = Path("."),
                   ae_overrides: Sequence[str] = (), overrides: Sequence[str] = (),
                   log: Callable[[str], None] = print, note: str = "") -> Path:
    """Train from scratch and replace ``out`` with the new bundle; returns its manifest path."""
    ae_experiment, composer_experiment = recipe_paths(root, recipe)
    speed = machine_facts()
    stages = Stages(4, log)
    started = time.perf_counter()
    trained = train_pipeline(stages, ae_experiment, composer_experiment, ae_overrides, overrides)
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
        SEEN: songs_seen_by([to_container(trained.autoencoder_cfg)["data"], to_container(trained.composer_cfg)["data"]]),
    }
    with atomic_dir(out) as staging:
        write_bundle(trained.composer_checkpoint, trained.autoencoder, staging, provenance)
    return out / "manifest.json"
