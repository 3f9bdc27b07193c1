"""`jen-composer bench`: every layer's speed benchmarks as one table (see docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# The layers that ship benchmarks (each module exposes run_benchmarks(quick) -> list[BenchRow]).
BENCH_MODULES = {
    "data": "jen_composer.data.bench",
    "autoencoder": "jen_composer.models.autoencoder.bench",
    "diffusion": "jen_composer.diffusion.bench",
    "composition": "jen_composer.composition.bench",
    "sampler-accuracy": "benchmarks.sampler_accuracy",  # exact errors; imports tests.exact_moments
    "sampler-speed": "benchmarks.sampler_speed",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run speed benchmarks and print a table")
    p.add_argument("--only", choices=sorted(BENCH_MODULES), action="append", help="run only these groups")
    p.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    p.add_argument("--ckpt", help="composer checkpoint for the co-composition round latency (default: a fake engine)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from jen_composer.config.loader import find_project_root
    from jen_composer.utils.io import atomic_write_text

    groups = args.only or list(BENCH_MODULES)
    root = str(find_project_root(Path.cwd()))
    if root not in sys.path:  # benchmarks/ and tests/ are top-level folders of the checkout, not installed
        sys.path.insert(0, root)
    rows = []
    for group in groups:
        module = importlib.import_module(BENCH_MODULES[group])
        if group == "composition":
            rows.extend(module.run_benchmarks(quick=args.quick, ckpt=args.ckpt))
        else:
            rows.extend(module.run_benchmarks(quick=args.quick))
    table = Table(title="jen-composer benchmarks (this machine)")
    for col in ("benchmark", "config", "value", "unit", "note"):
        table.add_column(col, justify="right" if col == "value" else "left")
    lines = ["| benchmark | config | value | unit | note |", "|---|---|---:|---|---|"]
    for r in rows:
        value = f"{r.value:.4g}"
        table.add_row(r.benchmark, r.config, value, r.unit, r.note)
        lines.append(f"| {r.benchmark} | {r.config} | {value} | {r.unit} | {r.note} |")
    Console().print(table)
    if args.markdown:
        atomic_write_text(args.markdown, "\n".join(lines) + "\n")
    return 0
