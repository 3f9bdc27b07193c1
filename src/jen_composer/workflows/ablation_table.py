"""An ablation table from per-seed results: mean ± 95% interval per column, every row's difference
from the first row (paired by seed, with its interval: what says whether a row is better), Markdown/
CSV/JSON and a plot.

The interval is Student's t over the training seeds (see ``metrics.intervals``): a row is a recipe,
and what varies when someone reruns it is the seed.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jen_composer.core.config.ablation import AblationManifest
from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_save_figure, atomic_write_json, atomic_write_text
from jen_composer.metrics.intervals import Interval, t_interval
from jen_composer.metrics.report import SystemResult


@dataclass
class RowResult:
    label: str
    experiment: str
    seeds: list[int]  # the seeds whose results are in `results` (a partial row has fewer)
    results: list[SystemResult]  # one per seed (the row's first evaluation task)
    missing: list[int] = field(default_factory=list)  # manifest seeds not finished yet


def column_value(result: SystemResult, column: str) -> float:
    """``<group>/<key>`` of a result: e.g. ``clap/mix``, ``fad/mix`` (its ``fad`` number), ``coherence/beat_sync``."""
    group, _, key = column.partition("/")
    data = result.to_dict().get(group)
    if not isinstance(data, dict) or not key:
        raise ConfigError(f"columns: '{column}' must be <group>/<key> with a group of SystemResult "
                          f"(clap, fad, coherence, ...)")
    value = data.get(key)
    if isinstance(value, dict):  # fad/<track> holds a fad_result() dict
        value = value.get("fad")
    return float(value) if isinstance(value, (int, float)) else float("nan")


def row_intervals(row: RowResult, columns: Sequence[str], level: float = 0.95) -> dict[str, Interval]:
    return {c: t_interval([column_value(r, c) for r in row.results], level) for c in columns}


def differences(reference: RowResult, row: RowResult, columns: Sequence[str], level: float = 0.95) -> dict[str, Interval]:
    """``row - reference`` per column, paired by training seed (the seeds both rows finished): the
    mean difference and its Student-t interval over those seeds."""
    ref = dict(zip(reference.seeds, reference.results, strict=True))
    pairs = [(ref[s], r) for s, r in zip(row.seeds, row.results, strict=True) if s in ref]
    return {c: t_interval([column_value(r, c) - column_value(a, c) for a, r in pairs], level) for c in columns}


def _difference_cell(iv: Interval) -> str:
    if math.isnan(iv.mean):
        return "-"
    if math.isnan(iv.low):
        return f"{iv.mean:+.3f}"
    return f"{iv.mean:+.3f} [{iv.low:+.3f}, {iv.high:+.3f}]" + (" *" if iv.excludes_zero() else "")


def _cell(iv: Interval) -> str:
    if math.isnan(iv.mean):
        return "-"
    if math.isnan(iv.low):
        return f"{iv.mean:.3f}"
    return f"{iv.mean:.3f} ± {iv.half_width:.3f}"


def write_table(manifest: AblationManifest, rows: Sequence[RowResult], out: Path,
                notes: Sequence[str] = (), plot: bool = True, autoencoder: str | None = None) -> dict[str, Path]:
    """``table.md`` (mean ± 95% half-width), ``table.csv`` (mean, low, high), ``table.json`` and ``table.png``;
    ``autoencoder``: the re-export the rows were decoded through (recorded in table.json), None for their own."""
    header = ["row", *manifest.columns, "clips", "seeds"]
    md = [f"# {manifest.title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["row", *[f"{c} {s}" for c in manifest.columns for s in ("mean", "low", "high")], "clips", "seeds"])
    summary, partial = [], False
    for r in rows:
        stats = row_intervals(r, manifest.columns)
        clips = sum(x.clips for x in r.results)
        seeds = ",".join(map(str, r.seeds)) + (f" (missing {','.join(map(str, r.missing))})" if r.missing else "")
        partial = partial or bool(r.missing)
        md.append(f"| {r.label} | " + " | ".join(_cell(stats[c]) for c in manifest.columns) + f" | {clips} | {seeds} |")
        writer.writerow([r.label, *[v for c in manifest.columns for v in (stats[c].mean, stats[c].low, stats[c].high)],
                         clips, len(r.seeds)])
        summary.append({"row": r.label, "experiment": r.experiment, "seeds": r.seeds, "missing_seeds": r.missing,
                        "columns": {c: {**stats[c].to_dict(), "values": [column_value(x, c) for x in r.results]}
                                    for c in manifest.columns},
                        "results": [x.to_dict() for x in r.results]})
    md += ["", "Mean ± half-width of the 95% Student-t interval over training seeds (a value without ± had "
           "one seed). " + ("PARTIAL: some row-seeds are missing; rerun the same command to finish them."
                            if partial else "")]
    diffs = {r.label: differences(rows[0], r, manifest.columns) for r in rows[1:]} if rows else {}
    if diffs:
        md += ["", f"Difference from the first row ({rows[0].label}), paired by training seed: mean "
               "[95% Student-t interval over the seeds both rows finished]; * = the interval excludes 0.", "",
               "| row | " + " | ".join(manifest.columns) + " |", "|" + "---|" * (len(manifest.columns) + 1)]
        md += [f"| {label} | " + " | ".join(_difference_cell(d[c]) for c in manifest.columns) + " |"
               for label, d in diffs.items()]
    md += [*notes]
    paths = {"markdown": out / "table.md", "csv": out / "table.csv", "json": out / "table.json"}
    atomic_write_text(paths["markdown"], "\n".join(md) + "\n")
    atomic_write_text(paths["csv"], buf.getvalue())
    atomic_write_json(paths["json"], {"title": manifest.title, "partial": partial, "autoencoder": autoencoder, "rows": summary,
                                      "differences_from_first_row": {label: {c: iv.to_dict() for c, iv in d.items()}
                                                                     for label, d in diffs.items()}})
    if plot:
        paths["plot"] = plot_table(manifest, rows, out / "table.png")
    return paths


def plot_table(manifest: AblationManifest, rows: Sequence[RowResult], path: Path) -> Path:
    """One panel per column: a point per row with its 95% interval, the seeds' values as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = list(manifest.columns)
    ncols = min(4, len(cols))
    nrows = math.ceil(len(cols) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows + 0.6), squeeze=False)
    labels = [r.label for r in rows]
    for ax, column in zip(axes.flat, cols, strict=False):
        for i, r in enumerate(rows):
            iv = t_interval([column_value(x, column) for x in r.results])
            values = np.array([column_value(x, column) for x in r.results], dtype=float)
            ax.scatter(np.full(values.shape, i + 0.15), values, s=8, color="#999999", zorder=1)
            if not math.isnan(iv.mean):
                err = None if math.isnan(iv.low) else [[iv.mean - iv.low], [iv.high - iv.mean]]
                ax.errorbar([i], [iv.mean], yerr=err, fmt="o", color="#4c72b0", capsize=3, zorder=2)
        ax.set_title(column, fontsize=9)
        ax.set_xticks(range(len(rows)), labels, rotation=30, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(cols):]:
        ax.axis("off")
    fig.suptitle(manifest.title, fontsize=10)
    fig.tight_layout()
    return atomic_save_figure(fig, path)
