"""``build_clap_scorer(cfg)``: the scorer ``evaluation.clap.backend`` names, or None for ``none``.

``BACKENDS`` maps each name to its builder; the default is ``none`` so that no run logs CLAP numbers
from a model it does not have. (Tests register a random-weight laion model under ``random``.)
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

from jen_composer.core.config.evaluation import ClapConfig
from jen_composer.core.errors import ConfigError
from jen_composer.metrics.clap.laion import LaionClapScorer, build_laion_clap
from jen_composer.metrics.clap.protocol import ClapScorer
from jen_composer.metrics.clap.transformers import TransformersClapScorer


def _laion(cfg: ClapConfig) -> ClapScorer:
    with contextlib.redirect_stdout(io.StringIO()):  # laion-clap prints every parameter name
        module, tok = build_laion_clap(cfg.checkpoint, cfg.amodel, cfg.enable_fusion, cfg.tokenizer, cfg.device)
    return LaionClapScorer(module, tok, cfg.batch_size, cfg.max_seconds)


def _transformers(cfg: ClapConfig) -> ClapScorer:
    if not cfg.checkpoint:
        raise ConfigError("evaluation.clap.checkpoint: empty; give a hub name such as "
                          "'laion/larger_clap_music' or a local folder")
    return TransformersClapScorer.from_pretrained(cfg.checkpoint, cfg.batch_size, cfg.max_seconds, cfg.device)


BACKENDS: dict[str, Callable[[ClapConfig], ClapScorer]] = {"laion": _laion, "transformers": _transformers}


def build_clap_scorer(cfg: ClapConfig) -> ClapScorer | None:
    """The configured scorer; None when ``backend`` is ``none`` (no CLAP scores are computed)."""
    if cfg.backend == "none":
        return None
    if cfg.backend not in BACKENDS:
        raise ConfigError(f"evaluation.clap.backend '{cfg.backend}': expected one of none, {', '.join(BACKENDS)}")
    return BACKENDS[cfg.backend](cfg)


def require_clap_scorer(cfg: ClapConfig, what: str) -> ClapScorer:
    """The configured scorer for a command that cannot work without one (one clear line otherwise)."""
    scorer = build_clap_scorer(cfg)
    if scorer is None:
        raise ConfigError(f"evaluation.clap.backend is 'none': {what} needs a CLAP model; set "
                          "evaluation.clap.backend=laion|transformers and evaluation.clap.checkpoint (docs/evaluation.md)")
    return scorer
