"""Pre-encoded latents on disk: one safetensors file per song plus ``cache.json``.

``<out>/<song_id>.safetensors`` holds ``latents [k, d, L]`` (gain-scaled stems encoded once) and
``power [k, L]`` (audio mean-square per latent frame, for silence skipping) and ``mix [d, L]`` (the
gain-scaled mix, `data.mix.mix_stems`, encoded: the composer's mix track); ``cache.json`` records
the encoder's checksum, its geometry, the tracks, each song's tags/caption and the dataset's song
list and split manifest, so the cache trains without the audio. A cache is refused by any encoder
whose checksum differs.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import DataError, one_line
from jen_composer.core.io import atomic_path, atomic_write_json
from jen_composer.data.activity import Activity, block_power
from jen_composer.data.audio import read_audio
from jen_composer.data.index import (
    ScanSummary,
    as_dataclass,
    check_mode,
    check_song,
    handle_bad,
    list_song_dirs,
)
from jen_composer.data.mix import mix_stems
from jen_composer.data.schema import SongMeta
from jen_composer.data.splits import SPLITS_FILE

CACHE_FILE = "cache.json"
CACHE_FORMAT = 1
log = logging.getLogger(__name__)


@runtime_checkable
class LatentEncoder(Protocol):
    """What the cache needs from an autoencoder (models.autoencoder objects satisfy it)."""

    sample_rate: int
    channels: int
    hop: int
    latent_dim: int

    def encode(self, wave: torch.Tensor) -> torch.Tensor:  # [B, C, S] -> [B, d, L]
        ...

    def checksum(self) -> str:
        ...


def _song_file(out: Path, song: str) -> Path:
    return out / f"{song}.safetensors"


def _file_checksum(path: Path) -> str | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return (f.metadata() or {}).get("checksum")
    except Exception:
        return None


def _refuse(where: Path, have: str, want: str) -> DataError:
    return DataError(
        f"latent cache {where} was built with encoder checksum {have}, but this encoder's checksum is "
        f"{want}; encode into a new folder (or delete this one)"
    )


@dataclass
class EncodeSummary:
    scan: ScanSummary
    encoded: int
    reused: int

    def __str__(self) -> str:
        return f"encoded {self.encoded} song(s), reused {self.reused}; {self.scan}"


def encode_latent_cache(
    data_root: str | Path, out_dir: str | Path, encoder: LatentEncoder,
    cfg: DataConfig | None = None, progress: bool = True, with_mix: bool = False,
) -> EncodeSummary:
    """Encode every valid song under ``data_root`` into ``out_dir`` (resumable: songs already encoded
    with the same checksum are kept). ``cfg`` supplies tracks, tolerances and on_bad_input; its
    sample rate and channels must match the encoder's. ``with_mix`` also stores the encoded mix (for
    `composer.mix_track`); a song encoded earlier without it gets only its mix added."""
    from safetensors.torch import save_file

    cfg = cfg if cfg is not None else DataConfig(sample_rate=encoder.sample_rate, channels=encoder.channels)
    check_mode(cfg.on_bad_input)
    if (cfg.sample_rate, cfg.channels) != (encoder.sample_rate, encoder.channels):
        raise DataError(
            f"encoder expects {encoder.sample_rate} Hz x {encoder.channels} ch but data config says "
            f"{cfg.sample_rate} Hz x {cfg.channels} ch"
        )
    root, out = Path(data_root), Path(out_dir)
    checksum = str(encoder.checksum())
    if (out / CACHE_FILE).is_file():
        have = LatentCache(out).checksum
        if have != checksum:
            raise _refuse(out / CACHE_FILE, have, checksum)
    out.mkdir(parents=True, exist_ok=True)
    cfg_root = replace(as_dataclass(cfg), root=str(root))
    folders = list_song_dirs(root)
    scan = ScanSummary()
    songs: dict[str, Any] = {}
    encoded = reused = 0
    from tqdm.auto import tqdm

    for folder in tqdm(folders, desc="encode", unit="song", disable=not progress):
        try:
            rec = check_song(folder, cfg_root)
        except DataError as exc:
            handle_bad(scan, folder.name, exc, cfg.on_bad_input)
            continue
        scan.songs.append(rec)
        target = _song_file(out, rec.song_id)
        entry = {"tags": rec.meta.tags, "caption": rec.meta.caption, "gains": rec.meta.gains}
        old: dict[str, torch.Tensor] | None = None
        if target.is_file():
            have = _file_checksum(target)
            if have is not None and have != checksum:
                raise _refuse(target, have, checksum)
            if have == checksum and (not with_mix or _has_mix(target)):
                songs[rec.song_id] = {**entry, "frames": _frames_of(target)}
                reused += 1
                continue
            if have == checksum:  # same encoder, written without the mix: keep its stems, add the mix
                from safetensors.torch import load_file

                old = load_file(str(target))
        stems = np.stack([
            read_audio(rec.files[t], rec.song_id, frames=rec.frames, channels=cfg.channels)[0] * rec.meta.gain(t)
            for t in cfg.tracks
        ])
        with torch.no_grad():
            z = old["latents"] if old is not None else encoder.encode(torch.from_numpy(stems)).detach().float().cpu().contiguous()
            extra = {"mix": encoder.encode(torch.from_numpy(mix_stems(stems))[None]).detach().float().cpu()[0].contiguous()} if with_mix else {}
        expected = math.ceil(rec.frames / encoder.hop)
        if z.shape[:2] != (len(cfg.tracks), encoder.latent_dim) or abs(z.shape[-1] - expected) > 1:
            raise DataError(
                f"encoder returned latents of shape {tuple(z.shape)} for song '{rec.song_id}', expected "
                f"[{len(cfg.tracks)}, {encoder.latent_dim}, {expected}]"
            )
        power = torch.from_numpy(block_power(stems, encoder.hop, z.shape[-1]).astype(np.float32))
        with atomic_path(target) as tmp:
            save_file({"latents": z, "power": power, **extra}, str(tmp), metadata={"checksum": checksum, "song_id": rec.song_id})
        songs[rec.song_id] = {**entry, "frames": int(z.shape[-1])}
        encoded += 1
    if (root / SPLITS_FILE).is_file():
        shutil.copyfile(root / SPLITS_FILE, out / SPLITS_FILE)
    atomic_write_json(out / CACHE_FILE, {
        "format": CACHE_FORMAT, "checksum": checksum, "sample_rate": encoder.sample_rate,
        "channels": encoder.channels, "hop": encoder.hop, "latent_dim": encoder.latent_dim,
        "tracks": list(cfg.tracks), "data_root": str(root), "dataset_songs": [f.name for f in folders],
        "songs": songs, "skipped": scan.skipped,
    })
    if scan.skipped:
        log.warning("latent cache %s: %s", out, scan)
    return EncodeSummary(scan, encoded, reused)


def _has_mix(path: Path) -> bool:
    """Caches written before the mix track lack the mix latents: such files are encoded again."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return "mix" in f.keys()


def _frames_of(path: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return int(f.get_slice("latents").get_shape()[-1])


class LatentCache:
    """Read side of the cache: metadata, checksum check, and memory-mapped window reads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        file = self.path / CACHE_FILE
        if not file.is_file():
            raise DataError(f"{self.path} is not a latent cache (no {CACHE_FILE}); build it with `jen-composer data encode`")
        try:
            self.info: dict[str, Any] = json.loads(file.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{file}: invalid JSON: {exc}") from None
        missing = {"format", "checksum", "hop", "latent_dim", "sample_rate", "channels", "tracks", "songs"} - set(self.info)
        if missing:
            raise DataError(f"{file}: missing key(s) {sorted(missing)}")
        self.checksum: str = self.info["checksum"]
        self.hop: int = int(self.info["hop"])
        self.latent_dim: int = int(self.info["latent_dim"])
        self.sample_rate: int = int(self.info["sample_rate"])
        self.tracks: list[str] = list(self.info["tracks"])
        self._handles: dict[str, Any] = {}

    @property
    def songs(self) -> list[str]:
        return sorted(self.info["songs"])

    @property
    def dataset_songs(self) -> list[str]:
        return list(self.info.get("dataset_songs") or self.songs)

    def check_encoder(self, encoder_or_checksum: LatentEncoder | str) -> None:
        """Refuse an encoder (or checksum) other than the one that built the cache."""
        want = encoder_or_checksum if isinstance(encoder_or_checksum, str) else str(encoder_or_checksum.checksum())
        if want != self.checksum:
            raise _refuse(self.path / CACHE_FILE, self.checksum, want)

    def check_tracks(self, tracks: list[str]) -> None:
        if list(tracks) != self.tracks:
            raise DataError(f"latent cache {self.path} holds tracks {self.tracks}, config asks for {list(tracks)}")

    def meta(self, song: str) -> SongMeta:
        entry = self.info["songs"][song]
        return SongMeta(tags=entry.get("tags", {}), caption=entry.get("caption", ""), gains=entry.get("gains", {}))

    def frames(self, song: str) -> int:
        return int(self.info["songs"][song]["frames"])

    def _open(self, song: str) -> Any:
        from safetensors import safe_open

        handle = self._handles.get(song)
        if handle is None:
            path = _song_file(self.path, song)
            try:
                handle = safe_open(str(path), framework="pt")
            except Exception as exc:
                raise DataError(f"latent cache: cannot read {path}: {one_line(exc)}") from None
            self._handles[song] = handle
        return handle

    def check_mix(self) -> None:
        """Refuse a cache written before the mix latents existed (a composer with the mix track needs them)."""
        songs = self.songs
        if songs and "mix" not in self._open(songs[0]).keys():
            raise DataError(f"latent cache {self.path} has no mix latents (written before composer.mix_track); "
                            "run `jen-composer data encode --with-mix` again into it (adds only the mix)")

    def read(self, song: str, start: int, length: int, with_mix: bool = False) -> torch.Tensor:
        """``latents [k, d, length]`` from frame ``start`` (only that window is read); ``with_mix``
        appends the mix latents as track k + 1."""
        handle = self._open(song)
        z = handle.get_slice("latents")[:, :, start:start + length].float()
        if with_mix:
            z = torch.cat([z, handle.get_slice("mix")[:, start:start + length].float()[None]], dim=0)
        return z

    def activity(self, song: str) -> Activity:
        power = self._open(song).get_tensor("power").double().numpy()
        return Activity(power, 1)

    def __getstate__(self) -> dict[str, Any]:  # file handles do not cross into DataLoader workers
        state = dict(self.__dict__)
        state["_handles"] = {}
        return state
