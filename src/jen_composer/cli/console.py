"""A quiet console: hide known third-party noise at the CLI entry point, and only that.

Each entry names the module that raises it, its category and its text, so a new or different
warning from the same library still shows. Library users who import `jen_composer` keep their
own warning settings: only `jen-composer` (cli.main) calls `quiet_known_noise`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownNoise:
    module: str  # regex on the warning's module (as `warnings.filterwarnings` matches it)
    category: type[Warning]
    message: str  # regex on the start of the text
    why: str  # why hiding it is safe


KNOWN_WARNINGS = (
    KnownNoise(r"lightning\.pytorch\.utilities\._pytree", FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated",
               "Lightning's own use of a torch API deprecated in torch 2.10; nothing for the user to change"),
    KnownNoise(r"torch\.functional", UserWarning, r"torch\.meshgrid: in an upcoming release",
               "laion_clap's HTSAT audio encoder calls torch.meshgrid without indexing when it is built"),
)
TIP_PREFIX = "💡 Tip:"  # Lightning's adverts for its cloud products (litlogger, litmodels)
TIP_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning_fabric.utilities.rank_zero")


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(TIP_PREFIX)


def quiet_known_noise() -> None:
    """Install the filters (idempotent): known warnings by module+category+text, Lightning's tips."""
    for known in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=known.message, category=known.category, module=known.module)
    for name in TIP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropTips) for f in logger.filters):
            logger.addFilter(_DropTips())
