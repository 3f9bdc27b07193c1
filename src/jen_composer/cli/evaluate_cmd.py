"""`jen-composer evaluate --ckpt CKPT`: the paper's tables (CLAP, FAD, coherence) from a checkpoint."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="generate from a composer checkpoint and write the paper's tables + plots")
    p.add_argument("--ckpt", help="composer checkpoint (.ckpt written by `fit`; default: the bundled weights)")
    p.add_argument("--split", help="songs to evaluate on (default: evaluation.split)")
    p.add_argument("--tasks", help="comma-separated: joint,conditional,conditional_swapped,interactive (default: evaluation.tasks)")
    p.add_argument("--clips", type=int, help="number of songs (default: evaluation.num_clips)")
    p.add_argument("--seeds", help="comma-separated seeds (default: evaluation.seeds)")
    p.add_argument("--out", help="output folder (default: <run folder>/evaluation, or runs/bundle/evaluation)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="evaluation.* overrides, e.g. evaluation.clap.backend=laion")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.cli.progress import progress_bar
    from jen_composer.core.checkpoints import CHECKPOINT_KEY, read_composer_checkpoint
    from jen_composer.core.config import from_container
    from jen_composer.core.config.loader import merge_checked, parse_overrides
    from jen_composer.core.errors import ConfigError
    from jen_composer.inference.bundle import checkpoint_or_bundle
    from jen_composer.workflows.evaluate import evaluate_checkpoint

    ckpt = Path(checkpoint_or_bundle(args.ckpt))
    cfg = from_container(read_composer_checkpoint(ckpt)[CHECKPOINT_KEY]["config"], f"{ckpt} (embedded config)")
    extra = parse_overrides(args.overrides)
    if set(extra) - {"evaluation"}:
        raise ConfigError(f"command line: evaluate only takes evaluation.* overrides, got {sorted(set(extra) - {'evaluation'})}")
    cfg = merge_checked(cfg, extra, "command line")
    e = cfg.evaluation
    if args.split:
        e.split = args.split
    if args.clips:
        e.num_clips = args.clips
    if args.seeds:
        e.seeds = [int(s) for s in args.seeds.split(",")]
    tasks = args.tasks.split(",") if args.tasks else None
    default_out = ckpt.parent.parent / "evaluation" if args.ckpt else Path("runs/bundle/evaluation")
    out = Path(args.out) if args.out else default_out
    with progress_bar("generate (steps of every window of the current clip)") as bar:
        rows, paths = evaluate_checkpoint(ckpt, out, overrides=e, tasks=tasks, progress=bar)
    print(paths["markdown"].read_text())
    for key, path in paths.items():
        print(f"{key}: {path}")
    return 0
