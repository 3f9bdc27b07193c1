"""Result rows -> JSON, a Markdown table in the layout of the paper's Tables 1/2, bar-chart PNGs.

One ``SystemResult`` per row (a system, an ablation variant or a task). The checkpoint-driven
``evaluate``, ``evaluate-audio`` and the ablation runner all write through these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jen_composer.core.io import atomic_save_figure, atomic_write_json, atomic_write_text
from jen_composer.data.mix import MIX

COHERENCE_COLUMNS = {  # key in SystemResult.coherence -> column title (fit scores first)
    "harmonic_chords": "Harm-chords",
    "harmonic_stems": "Harm-kept",
    "pitch_chords": "Pitch-chords",
    "rhythm_drums": "Rhythm-drums",
    "rhythm_grid": "Rhythm-grid",
    "tempo_accuracy": "Tempo acc",
    "beat_sync": "Beat sync",
    "key_agreement": "Key agr",
    "chroma_agreement": "Chroma agr",
    "bass_chord_agreement": "Bass-chord",
}


@dataclass
class SystemResult:
    name: str
    clips: int
    clap: dict[str, float]  # track or "mix" -> mean CLAP cosine (empty when the probe replaces it)
    fad: dict[str, dict[str, Any]] = field(default_factory=dict)  # track/"mix" -> fad_result() dict
    coherence: dict[str, float] = field(default_factory=dict)  # see COHERENCE_COLUMNS
    probe: dict[str, float] = field(default_factory=dict)  # track or "mix" -> probe accuracy on the labels
    rpr: dict[str, Any] | None = None  # {"rpr", "low", "high", "comparisons"} vs the reference
    seeds: list[int] = field(default_factory=list)
    task: str = ""  # e.g. joint, conditional (Table 2 rows)
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SystemResult:
        return cls(**data)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _title(track: str) -> str:
    return "Mixed" if track == MIX else track.capitalize()


def markdown_table(rows: Sequence[SystemResult], tracks: Sequence[str]) -> str:
    """Adherence per track + Mixed (CLAP as Table 1, or the probe), then FAD, fit/coherence, RPR, clips, seeds."""
    cols = [*tracks, MIX]
    clap_cols = cols if any(r.clap for r in rows) else []
    probe_cols = cols if any(r.probe for r in rows) else []
    fad_cols = [c for c in cols if any(c in r.fad for r in rows)]
    coh_cols = [k for k in COHERENCE_COLUMNS if any(k in r.coherence for r in rows)]
    has_rpr = any(r.rpr for r in rows)
    has_task = any(r.task for r in rows)
    head = ["Method", *(["Task"] if has_task else []), *(f"CLAP {_title(c)}" for c in clap_cols),
            *(f"Probe {_title(c)}" for c in probe_cols),
            *(f"FAD {_title(c)}" for c in fad_cols), *(COHERENCE_COLUMNS[k] for k in coh_cols),
            *(["RPR Mixed"] if has_rpr else []), "Clips", "Seeds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        cells = [r.name, *([r.task] if has_task else []), *(_fmt(r.clap.get(c)) for c in clap_cols),
                 *(_fmt(r.probe.get(c)) for c in probe_cols)]
        cells += [_fmt(r.fad[c]["fad"] if c in r.fad else None) for c in fad_cols]
        cells += [_fmt(r.coherence.get(k)) for k in coh_cols]
        if has_rpr:
            cells.append("-" if not r.rpr else
                         f"{100 * r.rpr['rpr']:.0f}% [{100 * r.rpr['low']:.0f}, {100 * r.rpr['high']:.0f}]")
        cells += [str(r.clips), ",".join(map(str, r.seeds)) or "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(rows: Sequence[SystemResult], out_dir: Path, tracks: Sequence[str],
                 title: str = "Evaluation", stem: str = "results") -> dict[str, Path]:
    """``<stem>.json``, ``<stem>.md`` and one ``clap_<track>.png`` (``probe_<track>.png`` when the probe
    replaces CLAP) per track (+ mix) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "markdown": out_dir / f"{stem}.md"}
    atomic_write_json(paths["json"], {"title": title, "tracks": list(tracks),
                                      "results": [r.to_dict() for r in rows]})
    notes = ("CLAP: text-audio cosine; Probe: accuracy of the offline probe on the song's labels; "
             "Mixed = the sum of the tracks; only generated tracks are scored. FAD against the reference "
             "set (lower is better; clip counts in the JSON). Fit and coherence scores need no weights; "
             "'-' = nothing to measure. See docs/evaluation.md.")
    atomic_write_text(paths["markdown"], f"# {title}\n\n{markdown_table(rows, tracks)}\n{notes}\n")
    metric = "probe" if any(r.probe for r in rows) and not any(r.clap for r in rows) else "clap"
    for track in [*tracks, MIX]:
        paths[f"plot_{track}"] = plot_track(rows, track, out_dir / f"{metric}_{track}.png", metric)
    return paths


def plot_track(rows: Sequence[SystemResult], track: str, path: Path, metric: str = "clap") -> Path:
    """Bar chart of one track's ``metric`` (clap | probe) across rows (matplotlib, Agg, atomic PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.name} ({r.task})" if r.task else r.name for r in rows]
    values = [getattr(r, metric).get(track, float("nan")) for r in rows]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(rows)), 3.2))
    ax.bar(range(len(rows)), [0.0 if math.isnan(v) else v for v in values], color="#4c72b0")
    ax.set_xticks(range(len(rows)), labels, rotation=20, ha="right")
    name = "CLAP score" if metric == "clap" else "probe accuracy"
    ax.set_ylabel(name)
    ax.set_title(f"{name}: {_title(track)}")
    fig.tight_layout()
    return atomic_save_figure(fig, path)
