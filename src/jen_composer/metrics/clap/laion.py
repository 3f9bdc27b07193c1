"""The laion-clap backend: ``CLAP_Module`` from a local checkpoint, never touching the network.

laion-clap builds its RoBERTa text tower with ``RobertaModel.from_pretrained('roberta-base')``;
``text_branch_factory`` patches that call (and the tokenizer) for the duration of the construction so
the tower is built locally with the checkpoint's shape (or any other builder, as the tests do).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from jen_composer.core.errors import CheckpointError, one_line
from jen_composer.metrics.clap.audio import batches, prepare_audio
from jen_composer.metrics.clap.tokenizers import BYT5_PAD_ID, byt5_tokenizer, check_vocab


class LaionClapScorer:
    """laion-clap's ``CLAP_Module``; embeddings come from its own ``get_*_embedding`` calls."""

    def __init__(self, module: Any, tokenizer: Callable[[list[str]], Any] | None,
                 batch_size: int, max_seconds: float) -> None:
        self.module = module.eval()
        self.tokenizer = tokenizer  # None: the module's own RoBERTa tokenizer
        self.batch_size = batch_size
        self.max_seconds = max_seconds

    @torch.no_grad()
    def embed_audio(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        audio = prepare_audio(wave, sample_rate, self.max_seconds).numpy()
        parts = [self.module.get_audio_embedding_from_data(audio[s], use_tensor=False)
                 for s in batches(len(audio), self.batch_size)]
        return F.normalize(torch.from_numpy(np.concatenate(parts)).float(), dim=-1)

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str]) -> torch.Tensor:
        texts = list(texts)
        parts = [self.module.get_text_embedding(texts[s], tokenizer=self.tokenizer, use_tensor=False)
                 for s in batches(len(texts), self.batch_size)]
        return F.normalize(torch.from_numpy(np.concatenate(parts)).float(), dim=-1)


def import_laion() -> Any:
    """Import laion_clap lazily, with the Hub switched to offline mode for the import only.

    laion_clap builds BERT/RoBERTa/BART tokenizers at import time that this package never uses (it
    passes its own tokenizer); without offline mode a machine with no network retries for minutes.
    """
    import sys

    if "laion_clap" in sys.modules:
        return sys.modules["laion_clap"]
    import huggingface_hub.constants as hub

    saved = hub.HF_HUB_OFFLINE
    hub.HF_HUB_OFFLINE = True
    try:
        import laion_clap
    finally:
        hub.HF_HUB_OFFLINE = saved
    return laion_clap


@contextlib.contextmanager
def text_branch_factory(build: Callable[[], torch.nn.Module]) -> Iterator[None]:
    """Make laion-clap's ``RobertaModel.from_pretrained('roberta-base')`` build locally instead."""
    import_laion()
    model_module = sys.modules["clap_module.model"]  # laion_clap puts its folder on sys.path
    hook_module = sys.modules["laion_clap.hook"]
    original_model, original_tok = model_module.RobertaModel, hook_module.RobertaTokenizer

    class _LocalRoberta:
        @staticmethod
        def from_pretrained(*_args: Any, **_kwargs: Any) -> torch.nn.Module:
            return build()

    class _NoTokenizer:  # the caller supplies the tokenizer; never touch the network here
        @staticmethod
        def from_pretrained(*_args: Any, **_kwargs: Any) -> None:
            return None

    model_module.RobertaModel, hook_module.RobertaTokenizer = _LocalRoberta, _NoTokenizer
    try:
        yield
    finally:
        model_module.RobertaModel, hook_module.RobertaTokenizer = original_model, original_tok


def roberta(vocab: int, layers: int, intermediate: int, positions: int, type_vocab: int,
             pad_id: int) -> torch.nn.Module:
    from transformers import RobertaConfig, RobertaModel

    # hidden size stays 768: laion-clap's text_projection is Linear(768, joint dim)
    cfg = RobertaConfig(vocab_size=vocab, hidden_size=768, num_hidden_layers=layers, num_attention_heads=12,
                        intermediate_size=intermediate, max_position_embeddings=positions,
                        type_vocab_size=type_vocab, pad_token_id=pad_id, layer_norm_eps=1e-5)
    return RobertaModel(cfg)


def _text_branch_shape(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """Infer the RoBERTa text tower's size from a laion checkpoint's tensors."""
    prefix = "text_branch."
    keys = [k for k in state if k.startswith(prefix + "encoder.layer.")]
    if not keys:
        raise CheckpointError("laion CLAP checkpoint has no RoBERTa text tower (text_branch.encoder.*)")
    layers = 1 + max(int(k.split(".")[3]) for k in keys)
    return {
        "vocab": state[prefix + "embeddings.word_embeddings.weight"].shape[0],
        "positions": state[prefix + "embeddings.position_embeddings.weight"].shape[0],
        "type_vocab": state[prefix + "embeddings.token_type_embeddings.weight"].shape[0],
        "intermediate": state[prefix + "encoder.layer.0.intermediate.dense.weight"].shape[0],
        "layers": layers,
    }


def build_laion_clap(checkpoint: str, amodel: str, enable_fusion: bool, tokenizer: str,
                     device: str = "cpu") -> tuple[Any, Callable[[list[str]], Any] | None]:
    """A laion ``CLAP_Module`` loaded from a local checkpoint, with no network access at all."""
    path = Path(checkpoint)
    if not checkpoint or not path.is_file():
        raise CheckpointError(f"evaluation.clap.checkpoint '{checkpoint}': CLAP checkpoint file not found "
                              "(e.g. music_audioset_epoch_15_esc_90.14.pt)")
    laion_clap = import_laion()
    from clap_module.factory import load_state_dict

    try:
        state = load_state_dict(str(path), skip_params=True)
    except Exception as exc:  # torch.load raises many kinds on a corrupt file
        raise CheckpointError(f"{path}: not a laion CLAP checkpoint ({type(exc).__name__}: {exc})") from None
    tok_fn, pad_id = laion_tokenizer(tokenizer)
    shape = _text_branch_shape(state)

    def build() -> torch.nn.Module:
        return roberta(shape["vocab"], shape["layers"], shape["intermediate"], shape["positions"],
                        shape["type_vocab"], pad_id)

    with text_branch_factory(build):
        module = laion_clap.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel, device=device)
    try:
        module.model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: does not match amodel={amodel} enable_fusion={enable_fusion} "
                              f"({one_line(exc)})") from None
    return module.eval(), tok_fn


def laion_tokenizer(name: str) -> tuple[Callable[[list[str]], Any], int]:
    if name == "byt5":
        return byt5_tokenizer(), BYT5_PAD_ID
    from transformers import RobertaTokenizer

    try:
        tok = RobertaTokenizer.from_pretrained(name)
    except OSError as exc:
        raise CheckpointError(f"evaluation.clap.tokenizer '{name}': {one_line(exc)}") from None
    check_vocab(tok, name, 50000)

    def tokenize(texts: list[str]) -> Any:
        return tok(list(texts), padding="max_length", truncation=True, max_length=77, return_tensors="pt")

    return tokenize, int(tok.pad_token_id)
