"""`jen-composer ablate MANIFEST`: train and evaluate every row of an ablation table (e.g. Table 2).

Rerunning the same command continues an interrupted ablation: finished row-seeds are not repeated."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ablate", help="run an ablation manifest's rows at every seed and write the table")
    p.add_argument("manifest", help="e.g. experiments/ablations/table2.yaml")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="applied to every row (after the manifest's)")
    p.add_argument("--out", help="output folder (default runs/ablations/<title>)")
    p.add_argument("--table-only", action="store_true",
                   help="write the table from the finished row-seeds; train and evaluate nothing")
    p.add_argument("--seeds", help="comma-separated subset of the manifest's seeds (one worker per seed can run in parallel)")
    p.add_argument("--autoencoder", metavar="DIR",
                   help="decode every row through this re-export of the rows' autoencoder (same checksum, other "
                        "decoding settings); use another --out: the trained rows are reused, only the scores are new")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.core.errors import ConfigError
    from jen_composer.workflows.ablation import run_ablation

    try:
        seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    except ValueError:
        raise ConfigError(f"--seeds {args.seeds!r}: expected comma-separated integers, e.g. 0,2") from None
    paths = run_ablation(Path(args.manifest), args.overrides, Path(args.out) if args.out else None,
                         table_only=args.table_only, seeds=seeds, autoencoder=args.autoencoder)
    print(paths["markdown"].read_text())
    for key, path in paths.items():
        print(f"{key}: {path}")
    return 0
