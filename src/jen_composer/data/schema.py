"""The on-disk song format: ``<root>/<song_id>/{<track>.wav ..., mix.wav?, meta.json}``.

``meta.json`` = ``{"tags": {genre, instruments, mood, tempo, key}, "caption": str,
"gains": {track: float}, "labels": {...}}``. See docs/data.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jen_composer.core.errors import DataError
from jen_composer.core.io import atomic_write_json
from jen_composer.data.mix import MIX

META_FILE = "meta.json"
TAG_KEYS = ("genre", "instruments", "mood", "tempo", "key")  # canonical order of prompt tags
DEFAULT_GAIN = 1.0  # a track without a gain in meta.json is mixed at unity


@dataclass
class SongMeta:
    tags: dict[str, Any] = field(default_factory=dict)
    caption: str = ""
    gains: dict[str, float] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)

    def gain(self, track: str) -> float:
        return float(self.gains.get(track, DEFAULT_GAIN))

    def to_json(self) -> dict[str, Any]:
        return {"tags": self.tags, "caption": self.caption, "gains": self.gains, "labels": self.labels}


def _tag_ok(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str | int | float):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def parse_meta(data: Any, song: str, path: Path, tracks: list[str]) -> SongMeta:
    """Validate a decoded meta.json; the first problem becomes a DataError naming song, file and key."""
    where = f"song '{song}': {path}"
    if not isinstance(data, dict):
        raise DataError(f"{where}: expected a JSON object at the top level, got {type(data).__name__}")
    unknown = set(data) - {"tags", "caption", "gains", "labels"}
    if unknown:
        raise DataError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: tags, caption, gains, labels")
    tags = data.get("tags", {})
    if not isinstance(tags, dict):
        raise DataError(f"{where}: 'tags' must be an object like {{\"genre\": \"rock\"}}")
    for key, value in tags.items():
        if not _tag_ok(value):
            raise DataError(f"{where}: tag '{key}' must be a string, a number or a list of strings")
    caption = data.get("caption", "")
    if not isinstance(caption, str):
        raise DataError(f"{where}: 'caption' must be a string")
    gains = data.get("gains", {})
    if not isinstance(gains, dict):
        raise DataError(f"{where}: 'gains' must be an object like {{\"bass\": 0.8}}")
    for track, gain in gains.items():
        if track not in tracks and track != MIX:
            raise DataError(f"{where}: gain for unknown track '{track}' (tracks: {', '.join(tracks)})")
        if isinstance(gain, bool) or not isinstance(gain, int | float) or not math.isfinite(gain) or gain < 0:
            raise DataError(f"{where}: gain of '{track}' must be a finite number >= 0, got {gain!r}")
    labels = data.get("labels", {})
    if not isinstance(labels, dict):
        raise DataError(f"{where}: 'labels' must be an object")
    return SongMeta(tags=dict(tags), caption=caption, gains={k: float(v) for k, v in gains.items()}, labels=labels)


def read_meta(folder: Path, tracks: list[str]) -> SongMeta:
    """Read and validate ``folder/meta.json``."""
    song = folder.name
    path = folder / META_FILE
    if not path.is_file():
        raise DataError(f"song '{song}': missing {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"song '{song}': {path}: invalid JSON: {exc}") from None
    return parse_meta(data, song, path, tracks)


def write_meta(folder: Path, meta: SongMeta) -> None:
    atomic_write_json(folder / META_FILE, meta.to_json())
