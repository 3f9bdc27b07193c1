"""Text encoders behind one interface: ``forward(prompts) -> (tokens [B, N, D], mask [B, N] bool)``.

- ``flan_t5``: a frozen pretrained T5 encoder + tokenizer by hub name or local path (the paper's
  FLAN-T5). Offline, a slow tokenizer can come back empty without an error, so loading probes it.
- ``byt5_small``: the offline default, the file-free byte-level ByT5 tokenizer and a small
  randomly initialised T5 encoder built from config, trained jointly with the UNet.

Frozen encoders cache the embeddings of repeated prompts (training sees the same captions often).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn
from transformers import AutoTokenizer, ByT5Tokenizer, T5Config, T5EncoderModel

from jen_composer.core.config.composer import TextEncoderConfig
from jen_composer.core.config.options import TextEncoderKind, choices
from jen_composer.core.errors import CheckpointError, ConfigError, one_line

TEXT_KINDS = choices(TextEncoderKind)
_PROBE = "upbeat rock with bass and drums"
_MIN_VOCAB = 200  # an empty offline T5Tokenizer reports ~104 (only its extra ids)


class TextEncoder(nn.Module):
    """A tokenizer + T5 encoder. ``dim`` is the token width D; ``frozen`` turns caching on."""

    def __init__(self, tokenizer: object, encoder: T5EncoderModel, max_length: int, frozen: bool,
                 cache_size: int) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.max_length = max_length
        self.frozen = frozen
        self.cache_size = cache_size if frozen else 0
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        if frozen:
            self.encoder.requires_grad_(False)
            self.encoder.eval()

    @property
    def dim(self) -> int:
        return int(self.encoder.config.d_model)

    def train(self, mode: bool = True) -> TextEncoder:
        super().train(mode)
        if self.frozen:
            self.encoder.eval()  # a frozen encoder never uses dropout
        return self

    def _encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        device = next(self.encoder.parameters()).device
        enc = self.tokenizer(prompts, padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="pt")
        ids, mask = enc["input_ids"].to(device), enc["attention_mask"].to(device).bool()
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            tokens = self.encoder(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        return tokens, mask

    def forward(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.cache_size:
            return self._encode(list(prompts))
        missing = list(dict.fromkeys(p for p in prompts if p not in self._cache))
        if missing:
            tokens, mask = self._encode(missing)
            for i, p in enumerate(missing):
                self._cache[p] = tokens[i, mask[i]].detach()
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        rows = []
        for p in prompts:
            if p in self._cache:
                self._cache.move_to_end(p)
                rows.append(self._cache[p])
            else:  # evicted within this batch (cache smaller than the batch)
                tok, m = self._encode([p])
                rows.append(tok[0, m[0]])
        return _pad(rows)

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        self._cache.clear()  # moving devices or dtypes invalidates cached tensors
        return super()._apply(fn, recurse)


def _pad(rows: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(r.shape[0] for r in rows)
    tokens = rows[0].new_zeros(len(rows), n, rows[0].shape[1])
    mask = torch.zeros(len(rows), n, dtype=torch.bool, device=rows[0].device)
    for i, r in enumerate(rows):
        tokens[i, : r.shape[0]] = r
        mask[i, : r.shape[0]] = True
    return tokens, mask


def check_tokenizer(tokenizer: object, where: str) -> None:
    """Raise CheckpointError if ``tokenizer`` is the empty shell transformers returns offline."""
    size = len(tokenizer)  # type: ignore[arg-type]
    ids = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]  # type: ignore[operator]
    unk = getattr(tokenizer, "unk_token_id", None)
    if size < _MIN_VOCAB or not ids or (unk is not None and unk in ids):
        raise CheckpointError(
            f"{where}: tokenizer did not load (vocabulary size {size}, probe text maps to unknown tokens); "
            "the tokenizer files are missing or unreadable"
        )


def save_pretrained_command(name: str, folder: str) -> str:
    """The one-liner that stores a hub T5 encoder + tokenizer in a local folder (run where the hub is reachable)."""
    return (f"python -c \"from transformers import AutoTokenizer, T5EncoderModel; "
            f"T5EncoderModel.from_pretrained('{name}').save_pretrained('{folder}'); "
            f"AutoTokenizer.from_pretrained('{name}').save_pretrained('{folder}')\"")


def _offline_fix(where: str, local: Path) -> str:
    """For a hub name that did not load: how to get a local folder instead (this machine may be offline)."""
    if local.is_dir():
        return ""
    folder = f"models/{where.rstrip('/').split('/')[-1]}"
    return (f"; offline? where the Hugging Face hub is reachable run {save_pretrained_command(where, folder)}, "
            f"copy {folder}/ here and set composer.text.name_or_path={folder}")


def load_flan_t5(cfg: TextEncoderConfig) -> TextEncoder:
    """A pretrained T5 encoder + tokenizer from a hub name or a local folder (frozen by default)."""
    where = cfg.name_or_path
    local = Path(where).expanduser()
    if (where.startswith((".", "/", "~")) or local.exists()) and not local.is_dir():
        raise CheckpointError(f"composer.text.name_or_path: folder '{where}' does not exist")
    try:
        encoder = T5EncoderModel.from_pretrained(str(local) if local.is_dir() else where)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"composer.text.name_or_path: cannot load a T5 encoder from '{where}': "
                              f"{one_line(exc)}{_offline_fix(where, local)}") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(local) if local.is_dir() else where)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"composer.text.name_or_path: cannot load a tokenizer from '{where}': "
                              f"{one_line(exc)}{_offline_fix(where, local)}") from None
    check_tokenizer(tokenizer, f"composer.text.name_or_path '{where}'")
    if len(tokenizer) > encoder.config.vocab_size:
        raise CheckpointError(f"composer.text.name_or_path '{where}': tokenizer has {len(tokenizer)} tokens "
                              f"but the encoder embeds only {encoder.config.vocab_size}")
    return TextEncoder(tokenizer, encoder, cfg.max_length, cfg.frozen, cfg.cache_size)


def build_byt5_small(cfg: TextEncoderConfig) -> TextEncoder:
    """The offline default: file-free ByT5 tokenizer + a small random T5 encoder, trained jointly."""
    if cfg.dim % cfg.heads:
        raise ConfigError(f"composer.text.heads: {cfg.heads} does not divide composer.text.dim {cfg.dim}")
    tokenizer = ByT5Tokenizer()
    config = T5Config(vocab_size=len(tokenizer), d_model=cfg.dim, d_kv=cfg.dim // cfg.heads, d_ff=4 * cfg.dim,
                      num_layers=cfg.layers, num_heads=cfg.heads, dropout_rate=0.0,
                      pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    return TextEncoder(tokenizer, T5EncoderModel(config), cfg.max_length, frozen=False, cache_size=0)


def build_text_encoder(cfg: TextEncoderConfig) -> TextEncoder:
    if cfg.kind == "byt5_small":
        return build_byt5_small(cfg)
    if cfg.kind == "flan_t5":
        return load_flan_t5(cfg)
    raise ConfigError(f"composer.text.kind: '{cfg.kind}' is not one of {TEXT_KINDS}")
