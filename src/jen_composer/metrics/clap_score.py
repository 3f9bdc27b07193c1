"""CLAP score as torchmetrics metrics: sum/count states reduce across DDP ranks by summation."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics import Metric

from jen_composer.data.mix import MIX, mix_stems
from jen_composer.metrics.clap import ClapScorer


def clap_cosine(scorer: ClapScorer, audio: torch.Tensor, sample_rate: int,
                texts: Sequence[str] | torch.Tensor) -> torch.Tensor:
    """Per-item cosine similarity ``[B]`` (``texts`` may be precomputed text embeddings)."""
    a = scorer.embed_audio(audio, sample_rate)
    t = texts if isinstance(texts, torch.Tensor) else scorer.embed_text(list(texts))
    if len(a) != len(t):
        raise ValueError(f"{len(a)} audio clips but {len(t)} texts")
    return torch.nn.functional.cosine_similarity(a.float(), t.float(), dim=-1)


class ClapScore(Metric):
    """Mean text-audio CLAP cosine over every clip seen (on every rank)."""

    full_state_update = False
    higher_is_better = True
    is_differentiable = False

    def __init__(self, scorer: ClapScorer, sample_rate: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.scorer = scorer  # not an nn.Module: stays out of state_dict and .to()
        self.sample_rate = sample_rate
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, audio: torch.Tensor, texts: Sequence[str]) -> None:  # type: ignore[override]
        """``audio [B, S]`` or ``[B, C, S]`` at ``sample_rate``; one text per clip."""
        cos = clap_cosine(self.scorer, audio, self.sample_rate, texts).to(self.total.device)
        self.total += cos.double().sum()
        self.count += cos.numel()

    def compute(self) -> torch.Tensor:
        return (self.total / self.count.clamp(min=1)).float()


class MultiTrackClapScore(Metric):
    """Per-track CLAP scores and the mix's (the sum of the tracks, as in the paper) in one pass.

    ``update(stems [B, k, S] or [B, k, C, S], texts, scored [B, k] bool | None)``: ``scored`` marks
    which tracks count for the per-track scores (e.g. only the generated ones); the mix is always
    the sum of all ``k`` stems given. ``compute()`` -> ``{track: score, "mix": score}``.
    """

    full_state_update = False
    higher_is_better = True
    is_differentiable = False

    def __init__(self, scorer: ClapScorer, tracks: Sequence[str], sample_rate: int,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.scorer = scorer
        self.tracks = list(tracks)
        self.sample_rate = sample_rate
        n = len(self.tracks) + 1
        self.add_state("total", torch.zeros(n, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.zeros(n, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, stems: torch.Tensor, texts: Sequence[str],  # type: ignore[override]
               scored: torch.Tensor | None = None) -> None:
        k = len(self.tracks)
        if stems.dim() not in (3, 4) or stems.shape[1] != k:
            raise ValueError(f"stems must be [B, {k}, S] or [B, {k}, C, S], got {tuple(stems.shape)}")
        b = stems.shape[0]
        scored = torch.ones(b, k, dtype=torch.bool) if scored is None else scored.bool().cpu()
        text_emb = self.scorer.embed_text(list(texts))
        for i in range(k):
            rows = scored[:, i].nonzero().flatten()
            if len(rows):
                cos = clap_cosine(self.scorer, stems[rows, i], self.sample_rate, text_emb[rows])
                self.total[i] += cos.double().sum().to(self.total.device)
                self.count[i] += len(rows)
        cos = clap_cosine(self.scorer, mix_stems(stems, dim=1), self.sample_rate, text_emb)
        self.total[k] += cos.double().sum().to(self.total.device)
        self.count[k] += b

    def compute(self) -> dict[str, torch.Tensor]:
        means = (self.total / self.count.clamp(min=1)).float()
        names = [*self.tracks, MIX]
        return {name: means[i] if self.count[i] > 0 else torch.tensor(float("nan"))
                for i, name in enumerate(names)}
