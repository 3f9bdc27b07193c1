"""A laion ``CLAP_Module`` with random weights, built offline: it exercises the CLAP plumbing
(resampling, batching, DDP reduction) in tests; its scores mean nothing, so it is not in the library."""

from __future__ import annotations

from typing import Any

import torch

from jen_composer.core.config.evaluation import ClapConfig
from jen_composer.metrics.clap import LaionClapScorer
from jen_composer.metrics.clap.laion import import_laion, roberta, text_branch_factory
from jen_composer.metrics.clap.tokenizers import BYT5_PAD_ID, byt5_tokenizer

TEXT_LAYERS = 1  # depth of the random RoBERTa (width stays 768: laion's text projection expects it)


def build_random_laion_clap(amodel: str, text_layers: int, seed: int, enable_fusion: bool = False,
                            device: str = "cpu") -> Any:
    """A laion ``CLAP_Module`` with random weights, built offline (plumbing tests only)."""
    laion_clap = import_laion()
    vocab = byt5_tokenizer().vocab_size  # type: ignore[attr-defined]

    def build() -> torch.nn.Module:
        return roberta(vocab, text_layers, 1024, 80, 1, BYT5_PAD_ID)

    with torch.random.fork_rng(devices=[]), text_branch_factory(build):
        torch.manual_seed(seed)  # weights are a pure function of the seed; global RNG untouched
        module = laion_clap.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel, device=device)
    return module.eval()


def random_clap_scorer(cfg: ClapConfig) -> LaionClapScorer:
    """What ``evaluation.clap.backend=random`` builds once a test has registered it (``random_clap`` fixture)."""
    module = build_random_laion_clap(cfg.amodel, TEXT_LAYERS, seed=0, enable_fusion=cfg.enable_fusion, device=cfg.device)
    return LaionClapScorer(module, byt5_tokenizer(), cfg.batch_size, cfg.max_seconds)
