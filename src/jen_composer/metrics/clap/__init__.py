"""CLAP scorers: one interface over laion-clap and transformers (see docs/evaluation.md).

Every backend takes audio at any sample rate, resamples to CLAP's 48 kHz, folds channels to mono,
centre-crops to ``max_seconds`` and returns L2-normalised embeddings, so a text-audio CLAP score is a
plain dot product.
"""

from jen_composer.metrics.clap.audio import prepare_audio
from jen_composer.metrics.clap.factory import BACKENDS, build_clap_scorer, require_clap_scorer
from jen_composer.metrics.clap.laion import LaionClapScorer
from jen_composer.metrics.clap.protocol import CLAP_SAMPLE_RATE, ClapScorer
from jen_composer.metrics.clap.transformers import TransformersClapScorer

__all__ = [
    "BACKENDS", "CLAP_SAMPLE_RATE", "ClapScorer", "LaionClapScorer", "TransformersClapScorer", "build_clap_scorer",
    "prepare_audio", "require_clap_scorer",
]
