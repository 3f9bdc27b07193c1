"""The bundled pretrained weights: the default engine of `compose`, `studio` and `evaluate`.

`jen_composer/assets/bundle/` holds a slim composer checkpoint (EMA weights + the embedded config),
the exported autoencoder it decodes with (`autoencoder/`) and `manifest.json`: the command, commit,
configs and training time that made it, and the sha256 of every file. Both models store their
parameters as ``BUNDLE_DTYPE`` (`core/weight_storage.py`) and compute in float32. Each use verifies
the checksums first. `jen-composer bundle --retrain` rebuilds it from scratch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jen_composer.core.checkpoints import CHECKPOINT_KEY, read_composer_checkpoint
from jen_composer.core.errors import CheckpointError, JenComposerError
from jen_composer.core.io import atomic_torch_save, atomic_write_json, read_json_object
from jen_composer.core.weight_storage import STORAGE_DTYPES, is_storage_more_compact, pack, unpack

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "assets" / "bundle"
MANIFEST = "manifest.json"
COMPOSER = "composer.ckpt"
BUNDLE_DTYPE = "nf3"  # how the bundled models store their parameters (core/weight_storage.py); measured in README
BUNDLE_AUTOENCODER_DTYPE = "nf3"  # the autoencoder's kernels reach it by GPTQ (`autoencoder export --calibrate`), not nearest rounding
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


def songs_seen_in(data: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """The train and validation songs of a run's ``data`` config, as its datamodule split them (the
    latent cache's song list for a latent run, the song folders otherwise), with their caption
    fingerprints; None when that dataset is not on this machine."""
    from jen_composer.data.index import list_song_dirs
    from jen_composer.data.latent_cache import LatentCache
    from jen_composer.data.splits import resolve_splits

    fractions = (int(data.get("split_seed", 0)), float(data.get("test_fraction", 0.2)), float(data.get("val_fraction", 0.1)))
    try:
        if data.get("source") == "latents" and data.get("latent_cache"):
            cache = LatentCache(str(data["latent_cache"]))
            splits = resolve_splits(cache.path, cache.dataset_songs, *fractions)
            caption = lambda song: cache.meta(song).caption  # noqa: E731
        else:
            root = Path(str(data["root"]))
            splits = resolve_splits(root, [d.name for d in list_song_dirs(root)], *fractions)
            caption = lambda song: str(read_json_object(root / song / "meta.json", CheckpointError)["caption"])  # noqa: E731
        return {song: [caption_fingerprint(caption(song))] for song in sorted({*splits["train"], *splits["val"]})}
    except (JenComposerError, KeyError, OSError):
        return None


def songs_seen_by(data_configs: list[Mapping[str, Any]]) -> dict[str, list[str]] | None:
    """Every song any of these runs trained or validated on, each id with every caption fingerprint
    it had (None when one run's dataset is missing from this machine: then the demo cannot vouch
    for held-out songs)."""
    union: dict[str, list[str]] = {}
    for data in data_configs:
        seen = songs_seen_in(data)
        if seen is None:
            return None
        for song, fingerprints in seen.items():
            union[song] = sorted({*union.get(song, []), *fingerprints})
    return union


def seen_songs(manifest: dict[str, Any]) -> dict[str, list[str]] | None:
    """What the bundled weights trained or validated on, as recorded; None when not recorded."""
    seen = manifest.get(SEEN)
    if not isinstance(seen, dict):
        return None
    return {str(k): [str(f) for f in (v if isinstance(v, list) else [v])] for k, v in seen.items()}


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


def slim_checkpoint(src: Path, dst: Path, weights_dtype: str = BUNDLE_DTYPE) -> None:
    """EMA (else live) weights as ``model.*`` + the embedded config, decoding with ``AUTOENCODER``; the
    parameters stored as ``weights_dtype`` (`core/weight_storage.py`; buffers as they are), which
    `composer_from_checkpoint` turns back into float32. ``src`` may itself be slim (a bundle's, any
    storage): its weights are read back as floats first."""
    from jen_composer.inference.pipeline import composer_from_checkpoint

    ckpt = read_composer_checkpoint(src)
    try:
        state = unpack(ckpt["state_dict"])
    except ValueError as exc:
        raise CheckpointError(f"{src}: {exc}") from None
    prefix = "ema.shadow." if any(k.startswith("ema.shadow.") for k in state) else "model."
    # every name of a tied parameter (T5's shared / embed_tokens): each copy in the file stored the same way
    parameters = {name for name, _ in composer_from_checkpoint(src)[0].named_parameters(remove_duplicate=False)}
    packed = pack({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}, parameters, weights_dtype)
    weights = {"model." + k: v.clone() for k, v in packed.items()}
    info = dict(ckpt[CHECKPOINT_KEY])
    info["config"] = {**info["config"], "composer": {**info["config"]["composer"], "autoencoder": AUTOENCODER}}
    evaluation = info["config"].get("evaluation") or {}
    if (evaluation.get("probe") or {}).get("path"):  # a probe file of the training machine does not travel
        evaluation = {**evaluation, "probe": {**evaluation["probe"], "path": ""}}
        if (evaluation.get("fad") or {}).get("embedding") == "probe":
            evaluation = {**evaluation, "fad": {**evaluation["fad"], "embedding": "mel"}}
        info["config"] = {**info["config"], "evaluation": evaluation}
    atomic_torch_save({"state_dict": weights, CHECKPOINT_KEY: info}, dst)  # same weights, same bytes


def write_bundle(composer_ckpt: Path, autoencoder_dir: Path, out: Path, provenance: dict[str, Any],
                 weights_dtype: str = BUNDLE_DTYPE, autoencoder_dtype: str | None = None) -> Path:
    """Write the bundle into ``out`` (checksums computed from what was written) and return the manifest path.

    The autoencoder is stored as ``autoencoder_dtype`` when given (its export's own storage, after calibrated
    rounding), else as ``weights_dtype`` unless its export is already stored more compactly (e.g. nf3 after
    calibrated rounding): then it keeps that storage, which holds its values exactly. The record of how they
    were rounded stays while the storage does."""
    from jen_composer.models.autoencoder import export_autoencoder, load_autoencoder

    out.mkdir(parents=True, exist_ok=True)
    slim_checkpoint(composer_ckpt, out / COMPOSER, weights_dtype)
    source = read_json_object(autoencoder_dir / "config.json", CheckpointError) if autoencoder_dir.is_dir() else {}
    source_dtype = str(source.get("weights_dtype", "float32"))
    keep = source_dtype in STORAGE_DTYPES and is_storage_more_compact(source_dtype, weights_dtype)
    stored_as = autoencoder_dtype or (source_dtype if keep else weights_dtype)
    rounding = source.get("rounding") if stored_as == source_dtype else None
    export_autoencoder(load_autoencoder(autoencoder_dir), out / AUTOENCODER, weights_dtype=stored_as, rounding=rounding)
    stored = read_json_object(out / AUTOENCODER / "config.json", CheckpointError).get("weights_dtype", "float32")
    how = (f", rounded by {rounding.get('method')} on {len(rounding.get('songs') or [])} training songs"
           if isinstance(rounding, dict) else "")
    files = sorted([out / COMPOSER, *(p for p in (out / AUTOENCODER).iterdir() if p.is_file())])
    manifest = {**provenance, "weights": f"composer: EMA parameters stored as {weights_dtype}; autoencoder: parameters "
                                         f"stored as {stored}{how} (core/weight_storage.py); both compute in float32",
                "weights_dtype": weights_dtype,
                "files": {p.relative_to(out).as_posix(): sha256(p) for p in files}}
    atomic_write_json(out / MANIFEST, manifest)
    return out / MANIFEST
