"""The denoiser network traces as one graph for torch.compile, without graph breaks.

Why: compiling the whole ComposerModel breaks the graph at the tokenizer (prompts are strings), which
left the compiled training-step rows of benchmarks/gpu_throughput.py with 4 graphs per step; the
`compile-unet` rows compile the UNet alone, and this test keeps it one graph.
"""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.config import compose
from jen_composer.diffusion.tasks import paper_timesteps
from jen_composer.models.composer import ComposerModel, join_tracks


def _tiny_model(*overrides: str) -> tuple[ComposerModel, int]:
    cfg = compose("experiments/composer/tiny.yaml", list(overrides))
    return ComposerModel(cfg.composer, len(cfg.data.tracks), int(cfg.autoencoder.latent_dim)).train(), int(cfg.autoencoder.latent_dim)


@pytest.mark.parametrize("checkpointing", [False, True], ids=["plain", "gradient-checkpointing"])
def test_unet_is_one_graph_and_whole_model_breaks_at_the_tokenizer(checkpointing: bool) -> None:
    """With activation checkpointing too: the paper config the benchmark compiles sets it."""
    import torch._dynamo as dynamo

    model, dim = _tiny_model(f"composer.unet.gradient_checkpointing={str(checkpointing).lower()}")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, dim, 32)
    t = paper_timesteps(2, 4, 1000, g)
    prompts = ["[bass generation] funk", "[drums generation] rock"]
    tokens, mask = model.encode_text(prompts)
    unet = dynamo.explain(model.unet)(join_tracks(x), t.long(), tokens, mask)
    assert (unet.graph_count, unet.graph_break_count) == (1, 0)
    whole = dynamo.explain(model)(x, t, prompts, None)
    assert whole.graph_break_count > 0  # the reason the benchmark has a UNet-only compiled row
