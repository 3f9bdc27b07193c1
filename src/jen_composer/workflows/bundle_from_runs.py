"""`jen-composer bundle --from-ckpt CKPT --autoencoder DIR`: bundle weights that finished runs made.

The bench recipe's models are trained anyway by `ablate` and the acceptance runs; retraining them
only to bundle them would double the CPU time. The manifest records what made them instead: each
run's own `run.json` (command line, commit, package versions, seed), its resolved config, the wall
time from the run's start to its last checkpoint, and the command that retrains the bundle from
scratch (`jen-composer bundle --retrain --recipe bundle`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from jen_composer.core.config.runinfo import git_info
from jen_composer.core.errors import CheckpointError
from jen_composer.core.io import atomic_dir, read_json_object
from jen_composer.core.machine import machine_facts
from jen_composer.inference.bundle import BUNDLE_DIR, BUNDLE_DTYPE, SEEN, songs_seen_by, write_bundle


def run_record(run_folder: Path, last_file: Path) -> dict[str, Any]:
    """A run folder's run.json and config.yaml, plus the wall time from its start to ``last_file``."""
    info = read_json_object(run_folder / "run.json", CheckpointError, missing="missing (not a jen-composer run folder)")
    config_path = run_folder / "config.yaml"
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: missing (not a jen-composer run folder)")
    started = dt.datetime.fromisoformat(str(info["created"]).replace("+0000", "+00:00"))
    ended = dt.datetime.fromtimestamp(last_file.resolve().stat().st_mtime, dt.UTC)
    return {"run": info, "folder": run_folder.as_posix(), "config": yaml.safe_load(config_path.read_text()),
            "wall_seconds_start_to_last_checkpoint": round((ended - started).total_seconds(), 1)}


def autoencoder_data(autoencoder: dict[str, Any]) -> dict[str, Any]:
    """The autoencoder's ``data`` config: its run's, or the record's ``data`` (root, split_seed,
    fractions); an empty one (nothing known: the bundle then records no seen songs) otherwise."""
    if "config" in autoencoder:
        return dict(autoencoder["config"]["data"])
    data = autoencoder.get("record", {}).get("data")
    return dict(data) if isinstance(data, dict) else {}


def bundle_from_runs(command: str, composer_ckpt: Path, autoencoder_dir: Path, out: Path = BUNDLE_DIR,
                     autoencoder_run: Path | None = None, note: str = "", autoencoder_record: Path | None = None,
                     weights_dtype: str = BUNDLE_DTYPE) -> Path:
    """Replace ``out`` with a bundle of ``composer_ckpt`` decoding through ``autoencoder_dir``; returns the manifest.

    The autoencoder's provenance is its run folder (``autoencoder_run``) or, when that folder stayed on
    another machine (a lent GPU), a JSON record of how it was made (``autoencoder_record``: command,
    commit, machine, ``training_seconds``), stored verbatim."""
    if not composer_ckpt.is_file():
        raise CheckpointError(f"{composer_ckpt}: no such checkpoint")
    composer = run_record(composer_ckpt.parent.parent, composer_ckpt)
    ae_files = sorted(p for p in autoencoder_dir.glob("*") if p.is_file()) if autoencoder_dir.is_dir() else []
    if not ae_files:
        raise CheckpointError(f"{autoencoder_dir}: not an exported autoencoder folder")
    autoencoder: dict[str, Any] = {"export": autoencoder_dir.as_posix()}
    if autoencoder_run is not None:
        autoencoder = run_record(autoencoder_run, max(ae_files, key=lambda p: p.stat().st_mtime))
    elif autoencoder_record is not None:
        autoencoder["record"] = read_json_object(autoencoder_record, CheckpointError)
    seconds = [r["wall_seconds_start_to_last_checkpoint"] for r in (composer, autoencoder) if "run" in r]
    if "record" in autoencoder:
        recorded = autoencoder["record"].get("training_seconds")
        if not isinstance(recorded, int | float) or isinstance(recorded, bool):
            raise CheckpointError(f"{autoencoder_record}: 'training_seconds' must be a number of seconds")
        seconds.append(float(recorded))
    provenance = {
        "command": command,
        "recipe": "from finished runs",
        "note": note,
        "retrain_from_scratch": "jen-composer bundle --retrain --recipe bundle",
        "made_from": {"composer": composer, "autoencoder": autoencoder},
        "commit": git_info(Path(".")),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_seconds": {"total": round(sum(seconds), 1)},
        "machine": machine_facts(),
        "config": {"autoencoder": autoencoder.get("config"), "composer": composer["config"]},
        SEEN: songs_seen_by([composer["config"]["data"], autoencoder_data(autoencoder)]),
    }
    with atomic_dir(out) as staging:
        write_bundle(composer_ckpt, autoencoder_dir, staging, provenance, weights_dtype)
    return out / "manifest.json"
