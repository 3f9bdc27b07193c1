"""`jen-composer fit CONFIG [key=value ...]`: train whatever the config describes."""

from __future__ import annotations

import argparse

from jen_composer.cli.common import add_config_arguments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="train the autoencoder or the composer described by an experiment file")
    add_config_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from jen_composer.core.config import compose
    from jen_composer.training.fit import fit

    result = fit(compose(args.config, args.overrides))
    print(f"run folder: {result.run_dir}")
    if result.last_checkpoint:
        print(f"last checkpoint: {result.last_checkpoint}")
    if result.best_checkpoint:
        print(f"best checkpoint: {result.best_checkpoint}")
    return 0
