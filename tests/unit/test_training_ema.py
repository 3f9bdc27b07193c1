"""EMA averages trainable weights only; a frozen text encoder is shared, never checkpointed, reloaded by path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

from jen_composer.core.config import compose, to_container
from jen_composer.inference.pipeline import composer_from_checkpoint
from jen_composer.training.composer_module import ComposerModule

TINY = ["composer.unet.base_channels=16", "composer.unet.channel_mults=[1,2]", "composer.unet.attention_levels=[1]",
        "composer.unet.cross_attention_dim=32", "composer.unet.res_blocks=1", "composer.unet.attention_heads=2",
        "composer.unet.norm_groups=8", "composer.unet.gradient_checkpointing=false", "autoencoder.latent_dim=8",
        "data.tracks=[bass,drums]", "trainer.ema_decay=0.5"]


@pytest.fixture(scope="module")
def local_t5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small T5 encoder saved with save_pretrained: what a downloaded FLAN-T5 folder looks like."""
    folder = tmp_path_factory.mktemp("t5")
    tokenizer = ByT5Tokenizer()
    T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)
                   ).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _module(local_t5: Path) -> ComposerModule:
    torch.manual_seed(0)
    return ComposerModule(compose(None, [*TINY, "composer.text.kind=flan_t5", f"composer.text.name_or_path={local_t5}"]))


def test_ema_shares_the_frozen_encoder_and_averages_the_rest(local_t5: Path) -> None:
    module = _module(local_t5)
    assert module.ema.shadow.text_encoder.encoder is module.model.text_encoder.encoder  # no second copy
    with torch.no_grad():
        for p in module.model.parameters():
            if p.requires_grad:
                p.add_(1.0)
    before = {n: p.clone() for n, p in module.ema.shadow.named_parameters()}
    module.ema.update(module.model)
    moved = {n for n, p in module.ema.shadow.named_parameters() if not torch.equal(p, before[n])}
    trainable = {n for n, p in module.model.named_parameters() if p.requires_grad}
    assert moved == trainable and not any(n.startswith("text_encoder.encoder.") for n in moved)


def test_checkpoint_leaves_the_frozen_encoder_out_and_reloads_it_by_path(local_t5: Path, tmp_path: Path) -> None:
    module = _module(local_t5)
    checkpoint = {"state_dict": module.state_dict(), "jen_composer": {"config": to_container(module.cfg)}}
    module.on_save_checkpoint(checkpoint)
    keys = list(checkpoint["state_dict"])
    assert not [k for k in keys if ".text_encoder.encoder." in k]
    assert any(k.startswith("model.unet.") for k in keys) and any(k.startswith("ema.shadow.unet.") for k in keys)
    path = tmp_path / "c.ckpt"
    torch.save(checkpoint, path)
    full = sum(v.numel() for v in module.state_dict().values())
    assert sum(v.numel() for v in checkpoint["state_dict"].values()) < full

    again = _module(local_t5)  # Lightning's resume: the hook fills the frozen weights, then a strict load
    loaded = torch.load(path, weights_only=True)
    again.on_load_checkpoint(loaded)
    again.load_state_dict(loaded["state_dict"], strict=True)
    model, _ = composer_from_checkpoint(path)  # the inference loader takes the encoder from its path
    assert torch.equal(model.unet.state_dict()[next(iter(model.unet.state_dict()))],
                       module.ema.shadow.unet.state_dict()[next(iter(module.ema.shadow.unet.state_dict()))])
