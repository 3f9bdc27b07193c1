"""Tokenizers for the CLAP text towers: the file-free byte tokenizer and an offline vocabulary check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jen_composer.core.errors import CheckpointError

BYT5_PAD_ID = 0  # ByT5Tokenizer's pad id: a RoBERTa built for it must use the same padding index


def check_vocab(tokenizer: Any, name: str, minimum: int) -> None:
    # transformers 5 offline returns an EMPTY tokenizer instead of raising: check its size.
    if len(tokenizer) < minimum:
        raise CheckpointError(
            f"evaluation.clap.tokenizer '{name}': tokenizer has {len(tokenizer)} tokens (files missing "
            "offline?); point it at a local folder holding the RoBERTa tokenizer (vocab.json, merges.txt)"
        )


def byt5_tokenizer(max_length: int = 77) -> Callable[[list[str]], Any]:
    """A file-free byte tokenizer in laion-clap's calling convention (no tokenizer files needed)."""
    from transformers import ByT5Tokenizer

    tok = ByT5Tokenizer()

    def tokenize(texts: list[str]) -> Any:
        return tok(list(texts), padding="max_length", truncation=True, max_length=max_length,
                   return_tensors="pt")

    tokenize.vocab_size = len(tok)  # type: ignore[attr-defined]
    return tokenize
