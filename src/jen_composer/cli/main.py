"""Entry point of `jen-composer`. Each subcommand module exposes ``register(subparsers)``."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from jen_composer import __version__
from jen_composer.cli import (
    ablate_cmd,
    accept_cmd,
    autoencoder_cmd,
    bench_cmd,
    bundle_cmd,
    calibrate_cmd,
    compose_cmd,
    config_cmd,
    data_cmd,
    demo_cmd,
    eval_cmd,
    evaluate_cmd,
    fit_cmd,
    scores_cmd,
    separation_cmd,
    studio_cmd,
)
from jen_composer.cli.common import USAGE_EXIT_CODE, Parser
from jen_composer.cli.console import quiet_known_noise
from jen_composer.core.errors import JenComposerError

BROKEN_PIPE_EXIT_CODE = 141  # what a shell reports for a process ended by SIGPIPE
# Explicit list (no string factories): a command appears here only once it works.
COMMANDS = [demo_cmd, config_cmd, data_cmd, fit_cmd, autoencoder_cmd, compose_cmd, studio_cmd, evaluate_cmd, eval_cmd, separation_cmd, scores_cmd, ablate_cmd,
            accept_cmd, bench_cmd, bundle_cmd, calibrate_cmd]


def build_parser() -> Parser:
    parser = Parser(prog="jen-composer", description="JEN-1 Composer: multi-track music diffusion.")
    parser.add_argument("--version", action="version", version=f"jen-composer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_known_noise()
    try:
        return int(args.func(args) or 0)
    except JenComposerError as exc:
        sys.stderr.write(f"jen-composer {args.command}: error: {exc}\n")
        return USAGE_EXIT_CODE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:  # `jen-composer config ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return BROKEN_PIPE_EXIT_CODE


if __name__ == "__main__":
    raise SystemExit(main())
