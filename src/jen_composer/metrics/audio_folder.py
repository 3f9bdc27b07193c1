"""Folders of generated audio: find clips, read prompts, load stems (or split mixes with Demucs).

Accepted layouts (``<id>`` is the clip id that the prompts file refers to):

- ``DIR/<id>/{bass,drums,instrument,melody}.wav`` (+ optional ``mix.wav``, ``meta.json``): stems;
- ``DIR/<id>/mix.wav`` or ``DIR/<id>.wav``: mixes only (split with Demucs when scoring tracks).

Prompts file: JSON ``{"<id>": "prompt"}`` or ``{"<id>": {"prompt": ..., "tempo": 120,
"chords": [[start, end, root], ...], "kept": ["bass"]}}``, or JSON lines with an ``"id"`` key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jen_composer.core.errors import DataError
from jen_composer.data.audio import AUDIO_EXTENSIONS, find_audio, load_resampled
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.data.schema import META_FILE, read_meta
from jen_composer.metrics.clip_scores import song_labels
from jen_composer.metrics.coherence import parse_tempo

if TYPE_CHECKING:
    from jen_composer.metrics.separation import MixSeparator

PROMPT_KEYS = {"id", "prompt", "tempo", "chords", "kept"}


@dataclass
class Clip:
    id: str
    stems: dict[str, Path]  # empty when only a mix exists
    mix: Path | None
    meta: Path | None = None


@dataclass
class PromptInfo:
    text: str
    tempo: float | None = None  # prompted tempo (BPM); parsed from "... 120 bpm" when not given
    chords: list[Any] | None = None  # ground-truth chord labels (rendered benchmark)
    kept: list[str] = field(default_factory=list)  # tracks given to the model, not generated


def discover_clips(folder: Path, tracks: Sequence[str]) -> list[Clip]:
    """Every clip in ``folder`` (sorted by id); a clip with only some stems is an error."""
    if not folder.is_dir():
        raise DataError(f"{folder}: audio folder not found")
    clips = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            stems = {t: p for t in tracks if (p := find_audio(entry, t)) is not None}
            mix = find_audio(entry, MIX)
            if stems and len(stems) != len(tracks):
                missing = sorted(set(tracks) - set(stems))
                raise DataError(f"{entry}: has stems {sorted(stems)} but not {missing}")
            if stems or mix:
                meta = entry / META_FILE
                clips.append(Clip(entry.name, stems, mix, meta if meta.is_file() else None))
        elif entry.suffix.lower() in AUDIO_EXTENSIONS:
            clips.append(Clip(entry.stem, {}, entry))
    if not clips:
        raise DataError(f"{folder}: no clips found (expected <id>/<track>.wav, <id>/mix.wav or <id>.wav)")
    return clips


def _prompt_entry(clip_id: str, value: Any, source: Path) -> PromptInfo:
    if isinstance(value, str):
        return PromptInfo(text=value, tempo=parse_tempo(value))
    if not isinstance(value, dict) or not isinstance(value.get("prompt"), str):
        raise DataError(f"{source}: entry '{clip_id}' must be a string or an object with a 'prompt' string")
    unknown = set(value) - PROMPT_KEYS
    if unknown:
        raise DataError(f"{source}: entry '{clip_id}' has unknown key(s) {sorted(unknown)}; "
                        f"allowed: {sorted(PROMPT_KEYS)}")
    tempo = value["tempo"] if "tempo" in value else parse_tempo(value["prompt"])
    return PromptInfo(text=value["prompt"], tempo=None if tempo is None else float(tempo),
                      chords=value["chords"] if "chords" in value else None,
                      kept=list(value["kept"]) if "kept" in value else [])


def load_prompts(path: Path) -> dict[str, PromptInfo]:
    """Read a prompts file (JSON object or JSON lines; see the module docstring)."""
    if not path.is_file():
        raise DataError(f"{path}: prompts file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            if not all(isinstance(r, dict) and "id" in r for r in rows):
                raise DataError(f"{path}: every JSON line needs an 'id' key")
            data = {str(r["id"]): r for r in rows}
        else:
            data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected an object mapping clip ids to prompts")
    return {str(k): _prompt_entry(str(k), v, path) for k, v in data.items()}


def labels_from_meta(clip: Clip, tracks: list[str]) -> dict[str, Any]:
    """A clip folder's ``meta.json`` tags and labels (rendered songs carry genre, key, tempo, chords, beats)."""
    if clip.meta is None:
        return {}
    meta = read_meta(clip.meta.parent, tracks)
    return song_labels(meta.tags, meta.labels)


def load_stems(clip: Clip, tracks: Sequence[str], sample_rate: int, separator: str | MixSeparator,
               prompt: str = "") -> dict[str, np.ndarray]:
    """Mono float32 stems at ``sample_rate``: the clip's own files, or its mix split by Demucs (a model
    name) or by a ``MixSeparator`` (e.g. a composer's separation mode, which also reads the prompt)."""
    if clip.stems:
        waves = {t: load_resampled(clip.stems[t], clip.id, sample_rate, 1)[0] for t in tracks}
        n = min(len(w) for w in waves.values())
        return {t: w[:n] for t, w in waves.items()}
    from jen_composer.metrics.separation import separate

    assert clip.mix is not None
    if not isinstance(separator, str):
        return separator.separate(load_resampled(clip.mix, clip.id, sample_rate, 1)[0], sample_rate, tracks, prompt)
    return separate(clip.mix, clip.id, tracks, sample_rate, separator)


def load_mix(clip: Clip, tracks: Sequence[str], sample_rate: int) -> np.ndarray:
    """The clip's mix: ``mix.wav`` when present, else the plain sum of its stems (as in the paper)."""
    if clip.mix is not None:
        return load_resampled(clip.mix, clip.id, sample_rate, 1)[0]
    stems = load_stems(clip, tracks, sample_rate, separator="")
    return mix_stems(stems)
