"""`jen-composer bench`: every layer's speed benchmarks as one table (see docs/benchmarks.md).

The benchmarks live in the top-level ``benchmarks/`` package of a source checkout (they are not
installed with the library), so this command finds the checkout first and imports them as modules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

from jen_composer.core.errors import JenComposerError

GROUPS = ("data", "autoencoder", "diffusion", "composition", "sampler_accuracy", "sampler_speed", "longform_memory",
          "longform_seams", "region_edit", "demo")  # run order (longform_*, region_edit, demo: minutes)
WITH_CKPT = ("composition", "longform_memory", "longform_seams", "region_edit")  # groups that take --ckpt


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run speed benchmarks and print a table")
    p.add_argument("--only", choices=sorted(GROUPS), action="append", help="run only these groups")
    p.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    p.add_argument("--ckpt", help="composer checkpoint for the co-composition round latency (default: a fake engine) "
                   "and the long-form and region-edit rows (default: the bundled weights)")
    p.add_argument("--clips", type=int, help="region_edit: held-out clips to edit (default: the checkpoint's "
                   "evaluation.num_clips; --quick uses 2), so that two checkpoints are compared on the same clips")
    p.set_defaults(func=run)


def _checkout() -> Path:
    """The source checkout holding ``benchmarks/``: the current folder or the one this package was installed from."""
    import jen_composer

    for root in (Path.cwd(), Path(jen_composer.__file__).resolve().parents[2]):
        if (root / "benchmarks" / "__init__.py").is_file() and (root / "tests" / "fakes").is_dir():
            return root
    raise JenComposerError("benchmarks/ not found: run `jen-composer bench` from a jen-composer source checkout")


def benchmark_modules() -> dict[str, ModuleType]:
    """The benchmark modules by group name, imported from the checkout."""
    root = str(_checkout())
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks import (
        autoencoder,
        composition,
        data,
        demo,
        diffusion,
        longform_memory,
        longform_seams,
        region_edit,
        sampler_accuracy,
        sampler_speed,
    )

    return {"autoencoder": autoencoder, "composition": composition, "data": data, "demo": demo, "diffusion": diffusion,
            "sampler_accuracy": sampler_accuracy, "sampler_speed": sampler_speed, "longform_memory": longform_memory,
            "longform_seams": longform_seams, "region_edit": region_edit}


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from jen_composer.core.errors import ConfigError
    from jen_composer.core.io import atomic_write_text

    modules = benchmark_modules()
    groups = args.only or list(GROUPS)
    rows = []
    if args.clips is not None and (args.clips < 1 or "region_edit" not in groups):
        raise ConfigError(f"--clips {args.clips}: must be >= 1 and goes with --only region_edit")
    for group in groups:
        if group == "region_edit" and args.clips:
            rows.extend(modules[group].run_benchmarks(quick=args.quick, ckpt=args.ckpt, num_clips=args.clips))
        elif group in WITH_CKPT:
            rows.extend(modules[group].run_benchmarks(quick=args.quick, ckpt=args.ckpt))
        else:
            rows.extend(modules[group].run_benchmarks(quick=args.quick))
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
