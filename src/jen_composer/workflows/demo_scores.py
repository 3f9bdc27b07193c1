"""Conditioning fit of the demo's generated pitched tracks, beside the same scores of their controls.

For each held-out song, the instrument and melody generated over its drums + bass are scored against
its chord and beat labels and its kept stems (`metrics.clip_scores`, the scoring path `evaluate`
uses). The controls show what "no fit" reads on the same song: the same weights' joint sample (no
conditions) and their sample over another song's drums + bass, and the generated tracks half a beat
late, a tritone up, and as noise with their spectrum. Each cell is the mean over the songs (one
song is one draw). A score passes when the generated tracks beat both model controls and every
control the score is built to notice (`metrics.controls.DESIGNED_FOR`: a pitch score cannot see a
part moved half a beat, an onset score cannot see a transposition); the other cells are shown too.
A score is required of a track only where the score validation found it valid on that track alone
(`assets/score_validity.json`, from `validate-scores`): the chord instrument's real stems barely
follow the beat, so the rhythmic fits cannot tell them from noise, and such a row is shown as "not
validated for this track", not counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.core.errors import DataError
from jen_composer.core.io import read_json_object
from jen_composer.metrics import controls
from jen_composer.metrics.clip_scores import ClipAudio, fit_scores, song_labels
from jen_composer.workflows.demo_samples import DemoSamples, SongSamples
from jen_composer.workflows.evaluate import mono_at
from jen_composer.workflows.results_page import score_table

SAMPLE = "given_drums_bass"
SCORES = {"harmonic_chords": "harmonic fit: chord labels", "harmonic_stems": "harmonic fit: kept stems",
          "rhythm_drums": "rhythmic fit: kept drums", "rhythm_grid": "rhythmic fit: beat grid"}
MODEL_CONTROLS = {"joint": "joint", "given_other_drums_bass": "other song's drums+bass"}
SIGNAL_CONTROLS = {"half_beat": "half a beat late", "tritone": "a tritone up", "noise": "shaped noise"}
PASS = "beats its controls"
NOT_VALIDATED = "not validated for this track"
VALIDITY = Path(__file__).resolve().parents[1] / "assets" / "score_validity.json"
SCENARIO = "conditional"  # the validation scenario the demo's sample is: drums + bass kept


def track_validity(path: Path = VALIDITY) -> dict[str, bool]:
    """``score/track -> valid`` for the conditional scenario (a score/track not listed counts as valid)."""
    data = read_json_object(path, DataError)
    valid = (data.get("valid") or {}).get(SCENARIO)
    if not isinstance(valid, dict):
        raise DataError(f"{path}: no 'valid.{SCENARIO}' table of score/track -> true/false")
    return {str(k): bool(v) for k, v in valid.items()}


def counted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose verdict counts: not those of a score not validated for their track."""
    return [r for r in rows if r[PASS] != NOT_VALIDATED]


def required_controls(score: str) -> list[str]:
    """The columns a score must beat: both model controls and the signal controls it can notice."""
    return [*MODEL_CONTROLS.values(), *(label for key, label in SIGNAL_CONTROLS.items()
                                        if key in controls.DESIGNED_FOR[score])]


def _verdict(row: dict[str, Any], required: list[str]) -> str:
    """Over the songs where the generated track and every required control have a value."""
    if row["songs"] == 0:
        return "missing"
    return "yes" if all(row["generated"] > row[c] for c in required) else "no"


def _song_scores(one: SongSamples, made: list[str], sample_rate: int, cfg: Any) -> dict[str, dict[str, float]]:
    """variant -> score/track -> value, for one song."""
    sr = int(cfg.coherence.sample_rate)
    labels = song_labels(one.meta["tags"], one.meta["labels"])
    base = {t: mono_at(w, sample_rate, sr) for t, w in one.audio[SAMPLE].items()}
    rng = np.random.default_rng(0)
    tempo = float(one.meta["tags"]["tempo"])
    variants = {"generated": {t: base[t] for t in made}}
    for key, name in MODEL_CONTROLS.items():
        variants[name] = {t: mono_at(one.audio[key][t], sample_rate, sr) for t in made}
    variants[SIGNAL_CONTROLS["half_beat"]] = {t: controls.half_beat(base[t], tempo, sr) for t in made}
    variants[SIGNAL_CONTROLS["tritone"]] = {t: controls.tritone(base[t], sr) for t in made}
    variants[SIGNAL_CONTROLS["noise"]] = {t: controls.shaped_noise(base[t], sr, rng) for t in made}
    return {name: fit_scores(ClipAudio(SAMPLE, {**base, **tracks}, one.prompt, labels, frozenset(made)), cfg)
            for name, tracks in variants.items()}


def score_rows(per_song: list[dict[str, dict[str, float]]], made: list[str],
               validity: dict[str, bool] | None = None) -> list[dict[str, Any]]:
    """One row per generated track and score from each song's ``variant -> score/track -> value``;
    ``validity`` (``score/track -> valid``, `track_validity`) marks the rows not to count.

    Every mean of a row is over the same songs: those where the generated track and each control
    its verdict needs have a value (a silent control is missing, not a 0); a control the verdict
    does not need and that is missing on one of them shows as missing."""
    variants = list(per_song[0]) if per_song else []
    rows = []
    for track in made:
        for key, label in SCORES.items():
            name = f"{key}/{track}"
            if not any(name in song["generated"] for song in per_song):
                continue
            required = required_controls(key)
            usable = [song for song in per_song
                      if all(math.isfinite(song[v].get(name, math.nan)) for v in ("generated", *required))]
            row: dict[str, Any] = {"track": track, "score": label, "songs": len(usable)}
            for v in variants:
                values = [song[v].get(name, math.nan) for song in usable]
                row[v] = float(np.mean(values)) if values and all(map(math.isfinite, values)) else math.nan
            row[PASS] = _verdict(row, required) if (validity or {}).get(name, True) else NOT_VALIDATED
            rows.append(row)
    return rows


def score_samples(samples: DemoSamples, cfg: Any, log: Callable[[str], None]) -> tuple[list[dict[str, Any]], str]:
    """Rows of ``score_rows`` over the held-out songs and the same as an HTML table; prints them."""
    made = samples.generated[SAMPLE]
    rows = score_rows([_song_scores(one, made, samples.sample_rate, cfg) for one in samples.songs], made,
                      track_validity())
    _print(rows, len(samples.songs), log)
    return rows, score_table(rows)


def _print(rows: list[dict[str, Any]], songs: int, log: Callable[[str], None]) -> None:
    if not rows:
        log("      no score had anything to measure")
        return
    log(f"      mean over {songs} held-out song(s); a score passes when it beats both model controls and the "
        "signal controls it can notice (metrics/controls.py DESIGNED_FOR); it counts only on tracks it is "
        "validated for (assets/score_validity.json)")
    keys = list(rows[0])
    widths = [max(len(k), *(len(_text(r[k])) for r in rows)) for k in keys]
    log("      " + "  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)))
    for r in rows:
        log("      " + "  ".join(_text(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)))
    log(f"      {summary(rows)}")


def summary(rows: list[dict[str, Any]]) -> str:
    """"4 of 6 validated scores beat their controls (2 more shown, not validated for their track)"."""
    valid = counted(rows)
    line = f"{sum(r[PASS] == 'yes' for r in valid)} of {len(valid)} validated scores beat their controls"
    extra = len(rows) - len(valid)
    return line + (f" ({extra} more shown, not validated for their track)" if extra else "")


def _text(value: Any) -> str:
    if isinstance(value, float):
        return "missing" if math.isnan(value) else f"{value:.3f}"
    return str(value)
