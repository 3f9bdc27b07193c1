"""Pieces shared by subcommands: a parser whose usage errors are one line with exit code 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

USAGE_EXIT_CODE = 2


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors print one line (``jen-composer fit: error: ...``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(USAGE_EXIT_CODE)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``CONFIG [key=value ...]`` pair used by fit, config and friends."""
    parser.add_argument("config", help="experiment YAML, e.g. experiments/composer/tiny.yaml")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="dotted overrides, merged last")
