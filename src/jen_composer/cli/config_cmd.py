"""`jen-composer config`: print the resolved config and run id of an experiment."""

from __future__ import annotations

import argparse

from jen_composer.cli.common import add_config_arguments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print an experiment's resolved config and its run id")
    add_config_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from jen_composer.core.config import compose, run_dir, to_yaml

    cfg = compose(args.config, args.overrides)
    print(to_yaml(cfg), end="")
    print(f"# run folder: {run_dir(cfg)}")
    return 0
