"""The bundled pretrained weights: the default engine of `compose`, `studio` and `evaluate`.

`jen_composer/assets/bundle/` holds a slim composer checkpoint (EMA weights in fp16 + the embedded
config), the exported autoencoder it decodes with (`autoencoder/`, kernels in int8 per output channel) and `manifest.json`: the
command, commit, configs and training time that made it, and the sha256 of every file. Each use
verifies the checksums first. `jen-composer bundle --retrain` rebuilds it from scratch.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from jen_composer.core.checkpoints import CHECKPOINT_KEY, read_composer_checkpoint
from jen_composer.core.errors import CheckpointError
from jen_composer.core.io import atomic_write_bytes, atomic_write_json, read_json_object

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "assets" / "bundle"
MANIFEST = "manifest.json"
COMPOSER = "composer.ckpt"
AUTOENCODER = "autoencoder"  # the composer's embedded `composer.autoencoder`, resolved beside the checkpoint
REBUILD = "rebuild it with `jen-composer bundle --retrain`"
SEEN = "seen_songs"  # manifest: {song id: caption fingerprint} of every song the weights trained or validated on


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def caption_fingerprint(caption: str) -> str:
    """A rendered song's identity: song i of the benchmark is the same music wherever it is rendered
    with the same seed, and its caption (genre, key, tempo, instruments) changes with the seed."""
    return hashlib.sha256(caption.encode()).hexdigest()[:12]


def songs_seen_in(data_root: Path) -> dict[str, str] | None:
    """The train and validation songs of a rendered dataset with their caption fingerprints, or None
    when its splits.json or a song's meta.json is not on this machine."""
    try:
        splits = read_json_object(data_root / "splits.json", CheckpointError)
        seen = sorted({*splits.get("train", []), *splits.get("val", [])})
        return {s: caption_fingerprint(str(read_json_object(data_root / s / "meta.json", CheckpointError)["caption"]))
                for s in seen}
    except (CheckpointError, KeyError):
        return None


def songs_seen_by(data_roots: list[Path]) -> dict[str, str] | None:
    """Every song any of these runs' datasets trained or validated on (None when one dataset's records
    are missing from this machine: then the demo cannot vouch for held-out songs)."""
    union: dict[str, str] = {}
    for root in data_roots:
        seen = songs_seen_in(root)
        if seen is None:
            return None
        for song, fingerprint in seen.items():
            union.setdefault(song, fingerprint)
    return union


def seen_songs(manifest: dict[str, Any]) -> dict[str, str] | None:
    """What the bundled weights trained or validated on, as recorded; None when not recorded."""
    seen = manifest.get(SEEN)
    return {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else None


def read_manifest(folder: Path = BUNDLE_DIR) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise CheckpointError(f"{path}: no bundled weights here; pass --ckpt, or {REBUILD}")
    data = read_json_object(path, CheckpointError, hint=REBUILD)
    if not isinstance(data.get("files"), dict) or COMPOSER not in data["files"]:
        raise CheckpointError(f"{path}: manifest lists no '{COMPOSER}' with its sha256; {REBUILD}")
    return data


def verify_bundle(folder: Path = BUNDLE_DIR) -> Path:
    """Check every file's sha256 against the manifest; return the composer checkpoint's path."""
    for rel, expected in read_manifest(folder)["files"].items():
        path = folder / rel
        if not path.is_file():
            raise CheckpointError(f"{path}: bundled file missing; {REBUILD}")
        got = sha256(path)
        if got != expected:
            raise CheckpointError(f"{path}: sha256 {got[:16]}... does not match the manifest's {str(expected)[:16]}...: "
                                  f"the bundled weights are damaged or were changed; {REBUILD}")
    return folder / COMPOSER


def checkpoint_or_bundle(ckpt: str | None) -> str:
    """The checkpoint the user named, or the verified bundled one."""
    return ckpt if ckpt else str(verify_bundle(BUNDLE_DIR))


def slim_checkpoint(src: Path, dst: Path) -> None:
    """EMA (else live) weights as fp16 ``model.*`` + the embedded config, decoding with ``AUTOENCODER``."""
    ckpt = read_composer_checkpoint(src)
    state = ckpt["state_dict"]
    prefix = "ema.shadow." if any(k.startswith("ema.shadow.") for k in state) else "model."
    weights = {"model." + k[len(prefix):]: (v.half() if v.is_floating_point() else v).clone()
               for k, v in state.items() if k.startswith(prefix)}
    info = dict(ckpt[CHECKPOINT_KEY])
    info["config"] = {**info["config"], "composer": {**info["config"]["composer"], "autoencoder": AUTOENCODER}}
    evaluation = info["config"].get("evaluation") or {}
    if (evaluation.get("probe") or {}).get("path"):  # a probe file of the training machine does not travel
        evaluation = {**evaluation, "probe": {**evaluation["probe"], "path": ""}}
        if (evaluation.get("fad") or {}).get("embedding") == "probe":
            evaluation = {**evaluation, "fad": {**evaluation["fad"], "embedding": "mel"}}
        info["config"] = {**info["config"], "evaluation": evaluation}
    import torch

    buffer = io.BytesIO()  # torch.save names the archive after its file: a temp name would change the bytes
    torch.save({"state_dict": weights, CHECKPOINT_KEY: info}, buffer)
    atomic_write_bytes(dst, buffer.getvalue())  # the same weights make the same file, so a rebuild changes nothing


def write_bundle(composer_ckpt: Path, autoencoder_dir: Path, out: Path, provenance: dict[str, Any]) -> Path:
    """Write the bundle into ``out`` (checksums computed from what was written) and return the manifest path."""
    from jen_composer.models.autoencoder import export_autoencoder, load_autoencoder

    out.mkdir(parents=True, exist_ok=True)
    slim_checkpoint(composer_ckpt, out / COMPOSER)
    export_autoencoder(load_autoencoder(autoencoder_dir), out / AUTOENCODER, weights_dtype="int8")
    files = sorted([out / COMPOSER, *(p for p in (out / AUTOENCODER).iterdir() if p.is_file())])
    manifest = {**provenance, "files": {p.relative_to(out).as_posix(): sha256(p) for p in files}}
    atomic_write_json(out / MANIFEST, manifest)
    return out / MANIFEST

