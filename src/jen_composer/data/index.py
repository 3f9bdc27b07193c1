"""Scan and validate a dataset folder once, in the main process, so workers never meet bad files.

Every check below turns a bad song into a DataError naming the song and the file; with
``on_bad_input=skip`` the song is left out with a warning and counted in the summary instead.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import ConfigError, DataError
from jen_composer.data.activity import BLOCK, Activity, block_power
from jen_composer.data.audio import (
    AUDIO_EXTENSIONS,
    MAX_FULL_SCALE_RUN,
    audio_info,
    find_audio,
    longest_full_scale_run,
    read_audio,
)
from jen_composer.data.schema import META_FILE, SongMeta, read_meta

log = logging.getLogger(__name__)
BAD_INPUT_MODES = ("error", "skip")


@dataclass
class SongRecord:
    """One valid song: its files, common length (samples), metadata and where it is audible."""

    song_id: str
    folder: Path
    files: dict[str, Path]
    frames: int
    meta: SongMeta
    activity: Activity


@dataclass
class ScanSummary:
    """What a scan found: valid songs, and why each skipped song was skipped."""

    songs: list[SongRecord] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # song id -> error message

    def __str__(self) -> str:
        text = f"{len(self.songs)} song(s) usable, {len(self.skipped)} skipped"
        if self.skipped:
            reasons = Counter(_reason(msg) for msg in self.skipped.values())
            text += " (" + ", ".join(f"{n} {r}" for r, n in reasons.most_common()) + ")"
        return text


def _reason(message: str) -> str:
    for key in ("cannot read", "sample rate", "lengths differ", "missing track", "missing", "NaN", "full-scale",
                "no audio",
                "silent", "shorter", "JSON", "meta.json", "channels"):
        if key in message:
            return key
    return "other"


def list_song_dirs(root: Path) -> list[Path]:
    """Song folders: sub-folders holding a meta.json or any audio file (hidden folders ignored)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"dataset folder {root} does not exist (make one with `jen-composer data synth`)")
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (d / META_FILE).is_file() or any(find_audio(d, f.stem) for f in d.iterdir() if f.is_file()):
            out.append(d)
    return out


def first_sample_rate(root: Path) -> int:
    """The sample rate of the first readable track file (for commands that take no --sample-rate)."""
    for folder in list_song_dirs(root):
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in AUDIO_EXTENSIONS:
                try:
                    return int(audio_info(f, folder.name).samplerate)
                except DataError:
                    continue
    raise DataError(f"{root}: no readable audio file in any song folder")


def check_song(folder: Path, cfg: DataConfig) -> SongRecord:
    """Validate one song folder against ``cfg``; raise DataError naming the song and file."""
    song = folder.name
    tracks = list(cfg.tracks)
    meta = read_meta(folder, tracks)
    files: dict[str, Path] = {}
    lengths: dict[str, int] = {}
    for track in tracks:
        path = find_audio(folder, track)
        if path is None:
            raise DataError(f"song '{song}': missing track '{track}' (expected {folder / (track + '.wav')})")
        info = audio_info(path, song)
        if info.samplerate != cfg.sample_rate:
            raise DataError(
                f"song '{song}': {path} has sample rate {info.samplerate} Hz, expected {cfg.sample_rate} Hz "
                "(resample with `jen-composer data prepare --format stems`)"
            )
        if info.channels not in (1, cfg.channels) and cfg.channels != 1:
            raise DataError(f"song '{song}': {path} has {info.channels} channels, expected 1 or {cfg.channels}")
        files[track], lengths[track] = path, int(info.frames)
    tolerance = round(cfg.length_tolerance_seconds * cfg.sample_rate)
    shortest, longest = min(lengths, key=lengths.get), max(lengths, key=lengths.get)  # type: ignore[arg-type]
    if lengths[longest] - lengths[shortest] > tolerance:
        raise DataError(
            f"song '{song}': track lengths differ by {(lengths[longest] - lengths[shortest]) / cfg.sample_rate:.3f} s "
            f"({files[longest].name}: {lengths[longest]} samples, {files[shortest].name}: {lengths[shortest]}), "
            f"more than data.length_tolerance_seconds={cfg.length_tolerance_seconds}"
        )
    frames = lengths[shortest]
    window = snippet_samples(cfg)
    if frames < window:
        raise DataError(
            f"song '{song}': {files[shortest]} is {frames / cfg.sample_rate:.2f} s long, shorter than one "
            f"snippet ({cfg.snippet_seconds} s)"
        )
    stems = []
    for track in tracks:
        x, _ = read_audio(files[track], song, frames=frames, channels=cfg.channels)  # refuses NaN/inf
        run, start = longest_full_scale_run(x)
        if run > MAX_FULL_SCALE_RUN:
            raise DataError(
                f"song '{song}': {files[track]} has {run} consecutive full-scale samples at "
                f"{start / cfg.sample_rate:.3f} s (clipped, or NaN written as PCM); re-export it without clipping"
            )
        stems.append(x * meta.gain(track))
    activity = Activity(block_power(np.stack(stems), BLOCK), BLOCK)
    if not activity.active_starts(frames, window, max(window // 4, 1), cfg.silence_threshold_db):
        raise DataError(
            f"song '{song}': all tracks are silent (no {cfg.snippet_seconds} s window above "
            f"{cfg.silence_threshold_db} dBFS in {', '.join(p.name for p in files.values())})"
        )
    return SongRecord(song, folder, files, frames, meta, activity)


def snippet_samples(cfg: DataConfig) -> int:
    return round(cfg.snippet_seconds * cfg.sample_rate)


def check_mode(mode: str) -> None:
    if mode not in BAD_INPUT_MODES:
        raise ConfigError(f"data.on_bad_input must be one of {', '.join(BAD_INPUT_MODES)}, got '{mode}'")


def handle_bad(summary: ScanSummary, song: str, exc: DataError, mode: str) -> None:
    """Raise in ``error`` mode; warn and count in ``skip`` mode."""
    if mode == "error":
        raise exc
    summary.skipped[song] = str(exc)
    log.warning("skipping %s", exc)


def scan_dataset(cfg: DataConfig, songs: list[str] | None = None) -> ScanSummary:
    """Validate every song folder under ``cfg.root`` (or only ``songs``)."""
    check_mode(cfg.on_bad_input)
    summary = ScanSummary()
    for folder in list_song_dirs(Path(cfg.root)):
        if songs is not None and folder.name not in songs:
            continue
        try:
            summary.songs.append(check_song(folder, cfg))
        except DataError as exc:
            handle_bad(summary, folder.name, exc, cfg.on_bad_input)
    if summary.skipped:
        log.warning("data scan of %s: %s", cfg.root, summary)
    return summary


def as_dataclass(cfg: DataConfig) -> DataConfig:
    """A plain DataConfig from either the dataclass or its OmegaConf node (``cfg.data``)."""
    from omegaconf import DictConfig, OmegaConf

    return OmegaConf.to_object(cfg) if isinstance(cfg, DictConfig) else cfg  # type: ignore[return-value]
