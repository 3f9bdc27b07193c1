"""The validation table: per scenario, each score's real mean and, per control, the paired difference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jen_composer.core.io import atomic_write_text

CONTROL_TITLES = {"half_beat": "half a beat late", "tritone": "tritone up", "foreign": "other song, same tempo",
                  "noise": "shaped noise"}


def _cell(c: dict[str, Any]) -> str:
    if c.get("diff") is None:
        return "-"
    ok = "yes" if c["low"] > 0 else "NO"
    return f"{c['mean']:.2f}: {c['diff']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}] {ok}"


def validation_markdown(rows: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> str:
    head = ["score", "real", *(CONTROL_TITLES[c] for c in CONTROL_TITLES), "songs"]
    out = [f"Held-out songs: {meta['songs']} from {meta['data']}; {meta['bootstrap']} bootstrap resamples; "
           f"probe: {meta['probe'] or 'none'}; pitch tracker: {meta['pitch_tracker']}; {meta['seconds']:.0f} s.",
           "Each control cell: control mean: mean(real - control) [95% interval] and whether the interval "
           "excludes 0 (FAD: control - real, since lower is better).", ""]
    for scenario, items in rows.items():
        kept = ", ".join(meta["kept"][scenario]) or "none"
        out += [f"### {scenario} (kept: {kept})", "", "| " + " | ".join(head) + " |",
                "|---|" + "---:|" * (len(head) - 1)]
        for r in items:
            real = "-" if r["real"] is None else f"{r['real']:.2f}"
            out.append(f"| {r['score']} | {real} | " + " | ".join(_cell(r[c]) for c in CONTROL_TITLES)
                       + f" | {r['songs']} |")
        out.append("")
    return "\n".join(out)


def write_validation(path: Path, rows: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> Path:
    atomic_write_text(path, "# Score validation\n\n" + validation_markdown(rows, meta))
    return path
