"""The validation table: per scenario, each score's real mean and, per control, the paired difference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jen_composer.core.io import atomic_write_text
from jen_composer.metrics.controls import DESIGNED_FOR

CONTROL_TITLES = {"half_beat": "half a beat late", "tritone": "tritone up", "foreign": "other song, same tempo",
                  "noise": "shaped noise"}


def designed_for(score: str) -> frozenset[str]:
    """The controls ``score`` must separate (``fad_mix (probe embedding)`` -> ``fad_mix``,
    ``rhythm_grid/instrument`` -> ``rhythm_grid``)."""
    return DESIGNED_FOR.get(score.split(" ")[0].split("/")[0], frozenset())


def separates(c: dict[str, Any]) -> bool | None:
    """Whether the paired 95% interval of real - control lies above 0 (None: too few pairs)."""
    return None if c.get("diff") is None else bool(c["low"] > 0)


def _cell(c: dict[str, Any], required: bool) -> str:
    if c.get("diff") is None:
        return "-"
    ok = "yes" if separates(c) else "NO"
    mark = "" if required else " (not required)"
    return f"{c['mean']:.2f}: {c['diff']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}] {ok}{mark}"


def verdict(row: dict[str, Any]) -> str:
    """``valid`` when every required control separates, else the controls that do not."""
    need = sorted(designed_for(row["score"]))
    if not need:
        return "no required controls"
    failed = [CONTROL_TITLES[c] for c in need if not separates(row[c])]
    return "valid" if not failed else "NOT valid: " + ", ".join(failed)


def validity_record(per_track: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> dict[str, Any]:
    """``{"valid": {scenario: {"score/track": bool}}, ...}``: whether each score separates, on that
    generated track alone, every control it is built to notice. The demo requires a score of a track
    only where this says it measures something there (`workflows/demo_scores.py`)."""
    return {"what": "per generated track: does the score separate the real stems from every control it is built to "
                    "notice (metrics/controls.py DESIGNED_FOR), 95% paired bootstrap over held-out songs",
            "songs": meta["songs"], "data": meta["data"], "seconds_per_song": meta["seconds_per_song"],
            "valid": {sc: {r["score"]: verdict(r) == "valid" for r in rows} for sc, rows in per_track.items()}}


def table_lines(rows: list[dict[str, Any]], head: list[str]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        real = "-" if r["real"] is None else f"{r['real']:.2f}"
        need = designed_for(r["score"])
        out.append(f"| {r['score']} | {real} | " + " | ".join(_cell(r[c], c in need) for c in CONTROL_TITLES)
                   + f" | {r['songs']} | {verdict(r)} |")
    return out


def validation_markdown(rows: dict[str, list[dict[str, Any]]], meta: dict[str, Any],
                        per_track: dict[str, list[dict[str, Any]]] | None = None) -> str:
    head = ["score", "real", *(CONTROL_TITLES[c] for c in CONTROL_TITLES), "songs", "verdict"]
    out = [f"Held-out songs: {meta['songs']} from {meta['data']} (seconds per song: {meta['seconds_per_song']}); "
           f"{meta['bootstrap']} bootstrap resamples; probe: {meta['probe'] or 'none'}; pitch tracker: "
           f"{meta['pitch_tracker']}; wall time {meta['wall_seconds']:.0f} s.",
           "Each control cell: control mean: mean(real - control) [95% interval] and whether the interval "
           "excludes 0 (FAD: control - real, since lower is better). A score is valid when it separates every "
           "control it is built to notice (metrics/controls.py DESIGNED_FOR, fixed from each score's definition); "
           "cells marked (not required) are controls the score cannot see by construction.", ""]
    for scenario, items in rows.items():
        kept = ", ".join(meta["kept"][scenario]) or "none"
        out += [f"### {scenario} (kept: {kept})", "", *table_lines(items, head), ""]
        if per_track and per_track.get(scenario):
            out += [f"#### {scenario}, each generated track alone", "", *table_lines(per_track[scenario], head), ""]
    return "\n".join(out)


def write_validation(path: Path, rows: dict[str, list[dict[str, Any]]], meta: dict[str, Any],
                     per_track: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    atomic_write_text(path, "# Score validation\n\n" + validation_markdown(rows, meta, per_track))
    return path
