"""Separation of held-out songs' mixes, scored per stem (mean and 95% interval over songs) twice:
waveform SI-SDR and magnitude SDR (`metrics.separation_scores.SCORES`).

Rows: the floor (the mix as every stem), the ceiling (ideal ratio mask from the true stems), and,
when a composer checkpoint is given, its codec's round trip of the true stems (the best a model
that generates through that autoencoder can reach: a second ceiling, the one that matters for a
phase-blind codec) and its separation mode. Every row sees the same songs, the same
excerpt (the first ``seconds`` of each song) and the same mix: the plain sum of the gain-scaled stems
(`data.mix.mix_stems`), so the rows differ only in how they separate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_write_json, atomic_write_text
from jen_composer.core.machine import machine_facts
from jen_composer.data.mix import mix_stems
from jen_composer.metrics.benchmark import load_song, split_songs
from jen_composer.metrics.intervals import Interval, t_interval
from jen_composer.metrics.separation_scores import (
    MEAN,
    SCORES,
    ideal_ratio_mask,
    mix_floor,
    score_stems,
    summarise,
)

Separate = Callable[[dict[str, np.ndarray], str], dict[str, np.ndarray]]  # (true stems, prompt) -> estimates

FLOOR, CEILING = "mix as every stem (floor)", "ideal ratio mask (ceiling)"


def anchor_systems() -> dict[str, Separate]:
    """The two anchors; neither needs a model."""
    return {FLOOR: lambda stems, _: mix_floor(stems), CEILING: lambda stems, _: ideal_ratio_mask(stems)}


def checkpoint_label(ckpt: str | Path) -> str:
    """``<run id>/<file>`` for a run's checkpoint (``.../<run id>/checkpoints/last.ckpt``), else the file
    name (``checkpoint_systems`` falls back to the whole path where two labels would clash)."""
    path = Path(ckpt)
    return f"{path.parent.parent.name}/{path.name}" if path.parent.name == "checkpoints" else path.name


def checkpoint_systems(ckpts: Sequence[str | Path], sample_rate: int, tracks: Sequence[str], steps: int | None,
                       seed: int) -> dict[str, Separate]:
    """Rows for checkpoints (e.g. one per training seed): each one's separation mode (it sees only
    the mix and the caption), and once per autoencoder they decode with, that codec's round trip of
    the true stems (what generating through it can reach at best)."""
    from jen_composer.inference.separator import CheckpointSeparator

    seen: set[Path] = set()
    for ckpt in ckpts:
        if Path(ckpt).resolve() in seen:
            raise ConfigError(f"--ckpt {ckpt}: given twice")
        seen.add(Path(ckpt).resolve())
    labels = [checkpoint_label(c) for c in ckpts]
    labels = [str(c) if labels.count(label) > 1 else label for c, label in zip(ckpts, labels, strict=True)]
    codecs: dict[str, Separate] = {}
    models: dict[str, Separate] = {}
    for ckpt, label in zip(ckpts, labels, strict=True):
        sep = CheckpointSeparator(ckpt, seed=seed)
        if steps:
            sep.settings = sep.settings.replace(steps=int(steps))
        codec = f"codec round trip of {sep.pipeline.autoencoder_source} (its ceiling)"
        codecs.setdefault(codec, lambda stems, _, sep=sep: sep.round_trip(stems, sample_rate))
        models[f"checkpoint {label}"] = lambda stems, prompt, sep=sep: sep.separate(mix_stems(dict(stems)), sample_rate, tracks, prompt)
    return {**codecs, **models}


def evaluate_separation(root: Path, tracks: Sequence[str], sample_rate: int, systems: dict[str, Separate], *,
                        split: str = "test", seconds: float = 4.0, split_seed: int = 0, test_fraction: float = 0.2,
                        val_fraction: float = 0.1, limit: int = 0, progress: bool = True) -> dict[str, Any]:
    """Per-song scores of every system and their summaries: ``{"rows": {score: {system: {stem: Interval}}},
    "per_song": {score: {system: [{stem: dB}]}}, ...}`` for each score of ``SCORES``."""
    songs = split_songs(Path(root), split, split_seed, test_fraction, val_fraction)
    songs = songs[:limit] if limit > 0 else songs
    n = int(round(seconds * sample_rate))
    per_song: dict[str, dict[str, list[dict[str, float]]]] = {sc: {name: [] for name in systems} for sc in SCORES}
    started = time.perf_counter()
    for song_id in tqdm(songs, desc="separation", unit="song", disable=not progress):
        song = load_song(Path(root), song_id, tracks, sample_rate)
        stems = {t: w[:n] for t, w in song.stems.items()}
        for name, separate in systems.items():
            estimates = separate(stems, song.text)
            for sc in SCORES:
                per_song[sc][name].append(score_stems(estimates, stems, sc))
    rows = {sc: {name: summarise(r, tracks) for name, r in by_system.items()} for sc, by_system in per_song.items()}
    return {"rows": rows, "vs_floor": floor_differences(per_song, tracks), "per_song": per_song, "songs": songs,
            "seconds": seconds, "sample_rate": sample_rate, "split": split, "wall_s": time.perf_counter() - started}


def floor_differences(per_song: dict[str, dict[str, list[dict[str, float]]]],
                      tracks: Sequence[str]) -> dict[str, dict[str, dict[str, Interval]]]:
    """Every system's score minus the floor's, paired by song: mean and 95% t-interval over songs
    (``{score: {system: {stem: Interval}}}``; empty without a floor row). Above 0 = it separates."""
    out: dict[str, dict[str, dict[str, Interval]]] = {}
    for sc, by_system in per_song.items():
        floor = by_system.get(FLOOR)
        if floor is None:
            continue
        out[sc] = {name: {c: t_interval([r[c] - f[c] for r, f in zip(rows, floor, strict=True)]) for c in [*tracks, MEAN]}
                   for name, rows in by_system.items() if name != FLOOR}
    return out


def _cell(iv: Interval) -> str:
    return "missing" if not np.isfinite(iv.mean) else f"{iv.mean:.2f} ± {iv.half_width:.2f}"


def _diff_cell(iv: Interval) -> str:
    if not np.isfinite(iv.mean):
        return "missing"
    return f"{iv.mean:+.2f} [{iv.low:+.2f}, {iv.high:+.2f}]" + (" *" if iv.excludes_zero() else "")


TITLES = {"si_sdr": "SI-SDR (waveform)", "magnitude_sdr": "magnitude SDR (|STFT| 1024/256, phase-blind)"}


def separation_markdown(result: dict[str, Any], tracks: Sequence[str]) -> str:
    """One table per score: a row per system, dB per stem and averaged, mean ± 95% half-width."""
    cols = [*tracks, MEAN]
    parts = []
    for sc, by_system in result["rows"].items():
        lines = [f"{TITLES.get(sc, sc)}:", "", "| system | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        lines += [f"| {name} | " + " | ".join(_cell(row[c]) for c in cols) + " |" for name, row in by_system.items()]
        diffs = result.get("vs_floor", {}).get(sc, {})
        if diffs:
            lines += ["", "Minus the floor, paired by song: mean [95% interval]; * = the interval excludes 0.", "",
                      "| system | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
            lines += [f"| {name} | " + " | ".join(_diff_cell(row[c]) for c in cols) + " |" for name, row in diffs.items()]
        parts.append("\n".join(lines))
    n = len(result["songs"])
    return "\n\n".join(parts) + (f"\n\nIn dB, mean ± 95% t-interval half-width over {n} {result['split']} songs "
                                  f"(first {result['seconds']:g} s of each, {result['sample_rate']} Hz mono).")


def write_separation(result: dict[str, Any], tracks: Sequence[str], out: Path, command: str) -> dict[str, Path]:
    """``separation.md`` and ``separation.json`` (per-song scores included) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    md = separation_markdown(result, tracks)
    atomic_write_text(out / "separation.md", f"{md}\n\nCommand: `{command}`\n")
    def plain(table: dict[str, dict[str, dict[str, Interval]]]) -> dict[str, Any]:
        return {sc: {name: {c: iv.to_dict() for c, iv in row.items()} for name, row in by_system.items()}
                for sc, by_system in table.items()}

    atomic_write_json(out / "separation.json", {**result, "rows": plain(result["rows"]), "vs_floor": plain(result.get("vs_floor", {})),
                                                "command": command, "machine": machine_facts()})
    return {"markdown": out / "separation.md", "json": out / "separation.json"}
