"""`jen-composer bundle --repack DIR --weights-dtype D`: the same bundled models stored another way.

Training the bundle is the expensive part, and its float32 weights live on the machine that trained
them. A bundle can still be stored smaller (or larger) later: its weights are read back as floats
(`core/weight_storage.unpack`) and packed again. Rounding twice is not rounding once: the manifest
keeps everything the source's recorded (command, commits, configs, training time, seen songs) and
adds `repacked_from` with the source's storage, command, commit and file checksums, so a reader
knows these weights went through the source's storage first.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import torch

from jen_composer.core.config.runinfo import git_info
from jen_composer.core.errors import CheckpointError, ConfigError
from jen_composer.core.io import atomic_dir, read_json_object
from jen_composer.inference.bundle import (
    AUTOENCODER,
    BUNDLE_DIR,
    COMPOSER,
    read_manifest,
    verify_bundle,
    write_bundle,
)


def _same_latent_statistics(mine: Path, given: Path) -> bool:
    """Whether two exports hold the same latent mean and std (buffers, never rounded: the same trained network
    keeps them bit for bit under any storage; another training run of the same config does not)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(mine / "model.safetensors"), "pt") as a, safe_open(str(given / "model.safetensors"), "pt") as b:
            return all(torch.equal(a.get_tensor(k), b.get_tensor(k)) for k in ("latent_mean", "latent_std"))
    except (OSError, SafetensorError, KeyError) as exc:  # a missing or damaged file, or a key missing: one line
        raise CheckpointError(f"--autoencoder: cannot read the latent statistics of {given} or {mine} ({exc})") from None


def repack_bundle(command: str, source: Path, weights_dtype: str, out: Path = BUNDLE_DIR,
                  autoencoder: Path | None = None) -> Path:
    """Replace ``out`` (which may be ``source``) with ``source``'s models stored as ``weights_dtype``;
    returns the new manifest. The source is verified against its manifest first. ``autoencoder``: an
    export of the same network (the same config) to store instead of the bundle's own, e.g. its weights
    rounded by `autoencoder export --calibrate`; the composer keeps the latents it was trained on."""
    src, dst = source.resolve(), out.resolve()  # an unknown weights_dtype: `pack` refuses it, before anything is replaced
    if src != dst and (src in dst.parents or dst in src.parents):
        raise ConfigError(f"--out: {out} and the bundle to repack {source} contain one another; writing one would delete the other")
    verify_bundle(source)
    if autoencoder is not None:
        mine = read_json_object(source / AUTOENCODER / "config.json", CheckpointError).get("config")
        given = read_json_object(autoencoder / "config.json", CheckpointError,
                                 missing="missing (not an exported autoencoder folder)").get("config")
        if given != mine or not _same_latent_statistics(source / AUTOENCODER, autoencoder):
            raise ConfigError(f"--autoencoder: {autoencoder} is not the network of {source / AUTOENCODER} (its config or "
                              "latent statistics differ); a bundle with another autoencoder needs a composer trained over "
                              "it (--retrain)")
    old = read_manifest(source)
    record: dict[str, Any] = {key: old.get(key) for key in ("command", "commit", "created_utc", "weights", "weights_dtype")}
    record["files"] = old["files"]
    record["source"] = source.as_posix()
    provenance = {key: value for key, value in old.items() if key not in ("files", "weights", "weights_dtype", "repacked_from")}
    provenance.update({"command": command, "commit": git_info(Path(".")),
                       "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                       "repacked_from": [record, *old.get("repacked_from", [])]})  # the whole chain, newest first
    with atomic_dir(out) as staging:  # reads the source before the folder is replaced, even when out is source
        write_bundle(source / COMPOSER, autoencoder or source / AUTOENCODER, staging, provenance, weights_dtype)
    return out / "manifest.json"
