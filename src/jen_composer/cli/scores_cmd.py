"""`jen-composer probe-train | validate-scores`: the offline adherence probe and the score validation."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe-train", help="train the offline prompt-adherence probe on a benchmark's training songs")
    p.add_argument("--data", type=Path, default=None, help="rendered benchmark folder (default: data.root)")
    p.add_argument("--out", required=True, type=Path, help="folder for probe.pt, probe.pt.sha256, probe_report.*")
    p.add_argument("--config", default=None, help="experiment YAML whose evaluation/data groups to use")
    p.add_argument("--workers", type=int, default=1, help="processes computing features (default: 1)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="e.g. evaluation.probe.epochs=500")
    p.set_defaults(func=run_probe_train)

    p = sub.add_parser("validate-scores", help="run every score on held-out real songs and on known-wrong controls")
    p.add_argument("--data", type=Path, default=None, help="rendered benchmark folder (default: data.root)")
    p.add_argument("--out", required=True, type=Path, help="folder for validation.md and validation.json")
    p.add_argument("--songs", type=int, default=0, help="use the first N held-out songs (default: all)")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples for the 95%% intervals")
    p.add_argument("--config", default=None, help="experiment YAML whose evaluation/data groups to use")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="e.g. evaluation.probe.path=runs/probe/probe.pt evaluation.fit.pitch_tracker=crepe")
    p.set_defaults(func=run_validate)


def _configs(args: argparse.Namespace):  # -> (EvaluationConfig, DataConfig, data root)
    from omegaconf import OmegaConf

    from jen_composer.core.config import compose

    cfg = compose(args.config, args.overrides)
    ev = OmegaConf.to_object(cfg.evaluation)
    data = OmegaConf.to_object(cfg.data)
    return ev, data, Path(args.data) if args.data else Path(data.root)


def run_probe_train(args: argparse.Namespace) -> int:
    from jen_composer.metrics.probe.run import train_and_report

    ev, data, root = _configs(args)
    report = train_and_report(root, args.out, ev, data, args.workers)
    print(report["markdown"], end="")
    print(f"wrote {args.out / 'probe.pt'} (sha256 {report['sha256'][:16]}...) and {args.out / 'probe_report.md'}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from jen_composer.metrics.validation import validate_scores

    ev, data, root = _configs(args)
    paths = validate_scores(root, args.out, ev, data, songs=args.songs, bootstrap=args.bootstrap)
    print(paths["markdown"].read_text(), end="")
    print(f"wrote {paths['markdown']} and {paths['json']}")
    return 0
