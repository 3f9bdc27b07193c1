"""The transformers ``ClapModel`` backend (hub name or local folder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from jen_composer.core.errors import CheckpointError, one_line
from jen_composer.metrics.clap.audio import batches, prepare_audio
from jen_composer.metrics.clap.protocol import CLAP_SAMPLE_RATE
from jen_composer.metrics.clap.tokenizers import check_vocab


class TransformersClapScorer:
    """A transformers ``ClapModel`` with its feature extractor and tokenizer."""

    def __init__(self, model: Any, feature_extractor: Any, tokenizer: Any,
                 batch_size: int, max_seconds: float, device: str = "cpu") -> None:
        self.model = model.eval().to(device)
        self.feature_extractor = feature_extractor
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_seconds = max_seconds
        self.device = device
        fusion = bool(getattr(model.config.audio_config, "enable_fusion", False))
        self._truncation = "fusion" if fusion else "rand_trunc"  # never random: clips are pre-cropped

    @classmethod
    def from_pretrained(cls, name_or_path: str, batch_size: int, max_seconds: float,
                        device: str = "cpu") -> TransformersClapScorer:
        from transformers import ClapModel, ClapProcessor

        try:
            model = ClapModel.from_pretrained(name_or_path)
            processor = ClapProcessor.from_pretrained(name_or_path)
        except OSError as exc:
            raise CheckpointError(f"evaluation.clap.checkpoint '{name_or_path}': cannot load a "
                                  f"transformers ClapModel ({one_line(exc)})") from None
        check_vocab(processor.tokenizer, name_or_path, 1000)
        return cls(model, processor.feature_extractor, processor.tokenizer, batch_size, max_seconds, device)

    @staticmethod
    def _pooled(out: Any) -> torch.Tensor:
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    @torch.no_grad()
    def embed_audio(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        audio = prepare_audio(wave, sample_rate, self.max_seconds).numpy()
        parts = []
        for s in batches(len(audio), self.batch_size):
            feats = self.feature_extractor(list(audio[s]), sampling_rate=CLAP_SAMPLE_RATE,
                                           truncation=self._truncation, return_tensors="pt")
            feats = {k: v.to(self.device) for k, v in feats.items()}
            parts.append(self._pooled(self.model.get_audio_features(**feats)).cpu())
        return F.normalize(torch.cat(parts).float(), dim=-1)

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str]) -> torch.Tensor:
        texts = list(texts)
        parts = []
        for s in batches(len(texts), self.batch_size):
            tok = self.tokenizer(texts[s], padding=True, truncation=True, return_tensors="pt")
            tok = {k: v.to(self.device) for k, v in tok.items() if k in ("input_ids", "attention_mask")}
            parts.append(self._pooled(self.model.get_text_features(**tok)).cpu())
        return F.normalize(torch.cat(parts).float(), dim=-1)
