"""`run_ablation`: train every row of a manifest at every seed, evaluate it, write one table.

Rows whose training config is identical (same run id, e.g. `+interactive` and `+curriculum`) are
trained once. Each row is evaluated with its own `evaluation` settings; the table reports the mean
and standard deviation over seeds as Markdown and CSV, and every run is grouped in W&B under the
manifest's title.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from omegaconf import OmegaConf

from jen_composer.core.config import compose, run_id
from jen_composer.core.config.ablation import AblationManifest, AblationRow
from jen_composer.core.config.loader import check_keys
from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_write_json, atomic_write_text
from jen_composer.metrics.report import SystemResult
from jen_composer.training.fit import fit
from jen_composer.workflows.evaluate import evaluate_checkpoint


@dataclass
class RowResult:
    label: str
    experiment: str
    seeds: list[int]
    results: list[SystemResult]  # one per seed (the row's first evaluation task)


def load_manifest(path: Path) -> AblationManifest:
    if not path.is_file():
        raise ConfigError(f"{path}: manifest not found")
    data = yaml.safe_load(path.read_text()) or {}
    schema = OmegaConf.structured(AblationManifest)
    check_keys(data, schema, str(path))
    for i, row in enumerate(data.get("rows") or []):
        check_keys(row, OmegaConf.structured(AblationRow), f"{path} (rows[{i}])")
    manifest: AblationManifest = OmegaConf.to_object(OmegaConf.merge(schema, data))  # type: ignore[assignment]
    if not manifest.rows:
        raise ConfigError(f"{path}: 'rows' is empty")
    return manifest


def column_value(result: SystemResult, column: str) -> float:
    """`clap/mix`, `fad/mix` (its `fad` number) or `coherence/beat_sync` from one result."""
    group, _, key = column.partition("/")
    if group == "clap":
        return float(result.clap.get(key, np.nan))
    if group == "fad":
        value = result.fad.get(key, {}).get("fad")
        return float(value) if value is not None else float("nan")
    if group == "coherence":
        return float(result.coherence.get(key, np.nan))
    raise ConfigError(f"columns: '{column}' must start with clap/, fad/ or coherence/")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def run_ablation(manifest_path: Path, extra_overrides: Sequence[str] = (), out_dir: Path | None = None,
                 root: Path = Path("."), log: Callable[[str], None] = print) -> dict[str, Path]:
    manifest = load_manifest(manifest_path)
    group = _slug(manifest.title)
    out = out_dir or Path("runs") / "ablations" / group
    trained: dict[str, Path] = {}  # run id -> checkpoint, shared by rows with identical training
    rows: list[RowResult] = []
    for row in manifest.rows:
        results = []
        for seed in manifest.seeds:
            overrides = [*manifest.overrides, *extra_overrides, f"seed={seed}", f"logger.group={group}"]
            cfg = compose(root / row.experiment, overrides)
            key = run_id(cfg)
            if key not in trained:
                log(f"== {row.label} (seed {seed}): training {row.experiment}")
                trained[key] = fit(cfg).last_checkpoint
            else:
                log(f"== {row.label} (seed {seed}): reusing the identical training run {key}")
            evaluated, _ = evaluate_checkpoint(trained[key], out / _slug(row.label) / f"seed{seed}",
                                               overrides=cfg.evaluation, name_prefix=f"{row.label}: ", log=log)
            results.append(evaluated[0])
        rows.append(RowResult(row.label, row.experiment, list(manifest.seeds), results))
    return write_table(manifest, rows, out)


def write_table(manifest: AblationManifest, rows: Sequence[RowResult], out: Path) -> dict[str, Path]:
    """`table.md` (mean ± std over seeds), `table.csv` (mean and std columns) and `table.json`."""
    header = ["row", *manifest.columns, "clips", "seeds"]
    md = [f"# {manifest.title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["row", *[f"{c} {s}" for c in manifest.columns for s in ("mean", "std")], "clips", "seeds"])
    summary = []
    for r in rows:
        cells, flat = [], []
        stats = {}
        for column in manifest.columns:
            values = np.array([column_value(x, column) for x in r.results], dtype=float)
            mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            std = float(np.nanstd(values)) if np.isfinite(values).any() else float("nan")
            cells.append("-" if np.isnan(mean) else f"{mean:.3f} ± {std:.3f}")
            flat += [mean, std]
            stats[column] = {"mean": mean, "std": std, "values": values.tolist()}
        clips = sum(x.clips for x in r.results)
        md.append(f"| {r.label} | " + " | ".join(cells) + f" | {clips} | {len(r.seeds)} |")
        writer.writerow([r.label, *flat, clips, len(r.seeds)])
        summary.append({"row": r.label, "experiment": r.experiment, "seeds": r.seeds, "columns": stats,
                        "results": [x.to_dict() for x in r.results]})
    md += ["", "Mean ± standard deviation over seeds. CLAP with the configured scorer "
           "(the offline default is random-weight CLAP: plumbing only, see docs/evaluation.md)."]
    paths = {"markdown": out / "table.md", "csv": out / "table.csv", "json": out / "table.json"}
    atomic_write_text(paths["markdown"], "\n".join(md) + "\n")
    atomic_write_text(paths["csv"], buf.getvalue())
    atomic_write_json(paths["json"], {"title": manifest.title, "rows": summary})
    return paths
