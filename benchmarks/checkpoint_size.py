"""Checkpoint size of the paper composer with a frozen FLAN-T5-large text encoder, before and after #13.

    python -m benchmarks.checkpoint_size            # from the repository root

Builds `experiments/composer/paper.yaml` on the meta device (no memory, no download): a random
T5 encoder with FLAN-T5-large's encoder shape stands in for `google/flan-t5-large`, frozen as the
paper config says. It then counts the tensor bytes of a checkpoint's weights the old way (the EMA
a deep copy of the whole model, everything saved) and the new way (`ComposerModule.on_save_checkpoint`:
the EMA shares the frozen encoder, which is left out), plus the AdamW moments of the trainable
weights, which both have. Tensor bytes are what `torch.save` writes, within its small pickle overhead.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import T5Config, T5EncoderModel

from jen_composer.core.config import compose
from jen_composer.training.composer_module import ComposerModule
from jen_composer.training.ema import EMA

ROOT = Path(__file__).resolve().parents[1]
# google/flan-t5-large's encoder (config.json of the hub model)
FLAN_T5_LARGE = dict(vocab_size=32128, d_model=1024, d_kv=64, d_ff=2816, num_layers=24, num_heads=16,
                     feed_forward_proj="gated-gelu", is_encoder_decoder=False)


def _bytes(state: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in state.values())


def measure() -> dict[str, float]:
    # a byt5 encoder of FLAN-T5-large's width first (so the UNet's text projection is the paper's), then swapped
    cfg = compose(ROOT / "experiments/composer/paper.yaml", ["composer.text.kind=byt5_small", "composer.text.dim=1024",
                                                             "composer.text.heads=16", "composer.autoencoder="])
    with torch.device("meta"):
        module = ComposerModule(cfg)
        module.model.text_encoder.encoder = T5EncoderModel(T5Config(**FLAN_T5_LARGE)).requires_grad_(False)
        module.model.text_encoder.frozen = True
        module.ema = EMA(module.model, float(cfg.trainer.ema_decay))
    state = module.state_dict()
    # before: `model.*` and `ema.shadow.*`, the old EMA being a deep copy of every weight, all saved
    # (tied weights, T5's `shared` and `encoder.embed_tokens`, are one storage in the file: counted once)
    model_state = module.model.state_dict()
    tied = {n for n, _ in module.model.named_parameters(remove_duplicate=False)} - {n for n, _ in module.model.named_parameters()}
    before = 2 * _bytes({k: v for k, v in model_state.items() if k not in tied}) + _bytes({"n": module.ema.num_updates})
    checkpoint = {"state_dict": state}
    module.on_save_checkpoint(checkpoint)
    after = _bytes(checkpoint["state_dict"])
    adam = 2 * sum(p.numel() * 4 for p in module.model.parameters() if p.requires_grad)
    text = sum(p.numel() for p in module.model.text_encoder.encoder.parameters())
    unet = sum(p.numel() for p in module.model.unet.parameters())
    return {"text_params_M": text / 1e6, "unet_params_M": unet / 1e6, "weights_before_GB": before / 1e9,
            "weights_after_GB": after / 1e9, "adam_GB": adam / 1e9,
            "total_before_GB": (before + adam) / 1e9, "total_after_GB": (after + adam) / 1e9}


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key:20s} {value:8.3f}")
