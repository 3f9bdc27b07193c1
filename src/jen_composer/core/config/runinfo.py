"""What every run writes beside its checkpoints: resolved config, git SHA, versions, seed, run id."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from jen_composer.core.config.loader import to_container, to_yaml
from jen_composer.core.config.root import LOGGING_ONLY_KEYS
from jen_composer.core.io import atomic_write_json, atomic_write_text

# composer options that leave runs trained before them unchanged when off: (option, the curriculum keys
# read only with it). While an option is off, it and its keys stay out of the run id.
OPTIONAL_KEYS = (("mix_track", ("separation", "extraction", "arrangement")),
                 ("frame_timesteps", ("frame_mask_share",)))

ADDED_OFF_KEYS = ("autoencoder.spectral_phase_locking", "composer.sampler.logsnr_points")

TRACKED_PACKAGES = (
    "jen-composer", "torch", "torchaudio", "lightning", "transformers", "omegaconf", "numpy",
    "librosa", "laion-clap", "wandb", "torchmetrics", "auraloss",
)


def run_id(cfg: DictConfig) -> str:
    """A short hash of everything that changes the computation (logging-only keys excluded).

    `trainer.resume` is excluded too: `trainer.resume=last` must land in the folder of the run it continues.
    """
    data = {k: v for k, v in to_container(cfg).items() if k not in LOGGING_ONLY_KEYS}
    data["trainer"] = {k: v for k, v in data["trainer"].items() if k != "resume"}
    for option, keys in OPTIONAL_KEYS:  # an option that is off changes nothing: runs keep their ids
        if not data["composer"].get(option, False):
            data["composer"] = {k: v for k, v in data["composer"].items() if k != option}
            data["curriculum"] = {k: v for k, v in data["curriculum"].items() if k not in keys}
    for path in ADDED_OFF_KEYS:  # keys added after runs were made: while off (false, empty), the old ids hold
        *parents, key = path.split(".")
        node = data
        for part in parents:
            node = node.get(part, {})
        if key in node and not node[key]:
            del node[key]
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def run_dir(cfg: DictConfig) -> Path:
    """``<output_root>/<name>/<run id>``: the same config always lands in the same folder."""
    return Path(cfg.output_root) / str(cfg.name) / run_id(cfg)


def git_info(cwd: Path | None = None) -> dict[str, Any]:
    """The current commit and whether the work tree has uncommitted changes (None outside git)."""
    def _git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    sha = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"sha": sha, "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


RESUME_KEYS = ("command", "created", "git", "versions", "host")  # what a resume records of itself


def run_metadata(cfg: DictConfig) -> dict[str, Any]:
    return {
        "run_id": run_id(cfg),
        "name": cfg.name,
        "seed": int(cfg.seed),
        "git": git_info(Path(__file__).parent),
        "versions": package_versions(),
        "command": sys.argv,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
    }


def write_run_files(cfg: DictConfig, folder: Path, resumed: bool = False) -> dict[str, Any]:
    """Write ``config.yaml`` and ``run.json`` atomically into ``folder``; return the metadata.

    A resumed run keeps the run.json of the command that started it (its command line, commit and
    start time are the run's provenance) and appends this command to its ``resumes`` list."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = run_metadata(cfg)
    previous = folder / "run.json"
    if resumed and previous.is_file():
        try:
            first = json.loads(previous.read_text())
        except (OSError, ValueError):
            first = None
        if isinstance(first, dict) and first.get("run_id") == meta["run_id"]:
            meta = first | {"resumes": [*first.get("resumes", []), {k: meta[k] for k in RESUME_KEYS}]}
    atomic_write_text(folder / "config.yaml", to_yaml(cfg))
    atomic_write_json(folder / "run.json", meta)
    return meta
