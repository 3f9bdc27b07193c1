"""Fréchet Audio Distance between two embedding sets, with cached reference statistics.

The embedding function is pluggable (``EmbedFn``: audio ``[B, S]`` at a rate -> ``[B, E]``): CLAP
audio embeddings by default, or log-mel statistics that need no weights. FAD is biased upwards for
few clips, so every result carries its clip count, and ``fad_inf`` extrapolates to infinitely many
clips by regressing FAD on 1/N over random subsets (as in Chung et al., "FAD-inf").
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from jen_composer.core.errors import DataError
from jen_composer.core.io import atomic_write_bytes

EmbedFn = Callable[[torch.Tensor, int], torch.Tensor]


@dataclass
class EmbeddingStats:
    """Mean and covariance of a set of embeddings (what FAD compares), plus how many clips."""

    mean: np.ndarray
    cov: np.ndarray
    count: int

    @classmethod
    def from_embeddings(cls, emb: np.ndarray | torch.Tensor) -> EmbeddingStats:
        x = np.asarray(torch.as_tensor(emb).double().cpu().numpy(), dtype=np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"need at least 2 embeddings [N, E], got shape {x.shape}")
        return cls(mean=x.mean(axis=0), cov=np.cov(x, rowvar=False), count=len(x))

    def save(self, path: str | Path) -> None:
        buf = io.BytesIO()
        np.savez(buf, mean=self.mean, cov=self.cov, count=np.int64(self.count))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> EmbeddingStats:
        try:
            with np.load(Path(path)) as data:
                return cls(mean=data["mean"], cov=data["cov"], count=int(data["count"]))
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a FAD statistics file ({exc})") from None


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """The square root of a symmetric positive semi-definite matrix (negative round-off eigenvalues clipped)."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(a: np.ndarray, b: np.ndarray) -> float:
    """Tr(sqrt(A B)) for covariances A, B, as Tr(sqrt(A^1/2 B A^1/2)): same eigenvalues, but a symmetric
    matrix, so `eigh` is exact and stable even when A or B is singular (no general `sqrtm`)."""
    root = _sqrt_psd(a)
    w = np.linalg.eigvalsh(root @ b @ root)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet_distance(a: EmbeddingStats, b: EmbeddingStats) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrt(S_a S_b))."""
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"embedding sizes differ: {a.mean.shape} vs {b.mean.shape}")
    diff = a.mean - b.mean
    value = diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2.0 * trace_sqrt_product(a.cov, b.cov)
    return float(max(value, 0.0))


def fad_inf(gen: np.ndarray | torch.Tensor, ref: EmbeddingStats, points: int = 8,
            min_fraction: float = 0.5, seed: int = 0) -> dict[str, float]:
    """Extrapolate FAD to N -> inf: fit FAD(N) = intercept + slope / N on random subsets."""
    x = np.asarray(torch.as_tensor(gen).double().cpu().numpy())
    n = len(x)
    lo = max(2, int(np.ceil(min_fraction * n)))
    sizes = np.unique(np.linspace(lo, n, points).astype(int))
    if len(sizes) < 2:
        raise ValueError(f"FAD-inf needs at least two subset sizes; {n} clips is too few")
    rng = np.random.default_rng(seed)
    fads = [frechet_distance(EmbeddingStats.from_embeddings(x[rng.choice(n, size=s, replace=False)]), ref)
            for s in sizes]
    slope, intercept = np.polyfit(1.0 / sizes, fads, 1)
    return {"fad_inf": float(intercept), "slope": float(slope)}


def fad_result(gen: np.ndarray | torch.Tensor, ref: EmbeddingStats, min_clips: int = 2,
               with_inf: bool = False, points: int = 8, min_fraction: float = 0.5,
               seed: int = 0) -> dict[str, float | int | None]:
    """``{"fad", "clips", "reference_clips", "fad_inf"}``; fad is None below ``min_clips``."""
    n = len(gen)
    out: dict[str, float | int | None] = {"fad": None, "clips": n, "reference_clips": ref.count,
                                          "fad_inf": None}
    if n < max(2, min_clips):
        return out
    out["fad"] = frechet_distance(EmbeddingStats.from_embeddings(gen), ref)
    if with_inf and n >= 4:
        out["fad_inf"] = fad_inf(gen, ref, points, min_fraction, seed)["fad_inf"]
    return out


def embed_all(embed: EmbedFn, clips: Sequence[torch.Tensor], sample_rate: int,
              batch_size: int = 8) -> torch.Tensor:
    """Embed 1-D clips of any lengths (each its own batch when lengths differ)."""
    out = []
    for start in range(0, len(clips), batch_size):
        group = clips[start : start + batch_size]
        if len({c.shape[-1] for c in group}) == 1:
            out.append(embed(torch.stack([c.reshape(-1) for c in group]), sample_rate))
        else:
            out.extend(embed(c.reshape(1, -1), sample_rate) for c in group)
    return torch.cat(out).float()


def reference_stats(name: str, clips: Callable[[], Sequence[torch.Tensor]], embed: EmbedFn,
                    sample_rate: int, embedder_id: str, cache_dir: str | Path | None,
                    fingerprint: Sequence[str] = ()) -> EmbeddingStats:
    """Reference statistics, read from ``cache_dir`` when the same inputs were embedded before.

    The cache key hashes ``name``, ``embedder_id`` (which model/weights) and ``fingerprint``
    (e.g. file paths with sizes and mtimes), so any change recomputes. ``clips`` is only called
    on a cache miss.
    """
    blob = json.dumps([name, embedder_id, sample_rate, list(fingerprint)]).encode()
    key = hashlib.sha256(blob).hexdigest()[:16]
    path = Path(cache_dir) / f"fad_ref_{name}_{key}.npz" if cache_dir else None
    if path is not None and path.is_file():
        return EmbeddingStats.load(path)
    stats = EmbeddingStats.from_embeddings(embed_all(embed, list(clips()), sample_rate))
    if path is not None:
        stats.save(path)
    return stats


def mel_embedder(n_mels: int = 64) -> EmbedFn:
    """Weight-free embedding: mean and std over time of log-mel energies (2 * n_mels dims)."""
    import torchaudio

    cache: dict[int, torch.nn.Module] = {}

    def embed(wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        if sample_rate not in cache:
            cache[sample_rate] = torchaudio.transforms.MelSpectrogram(
                sample_rate=sample_rate, n_fft=1024, hop_length=256, n_mels=n_mels)
        wave = torch.as_tensor(wave).float()
        wave = wave.mean(dim=1) if wave.dim() == 3 else wave
        mel = torch.log(cache[sample_rate](wave) + 1e-5)  # [B, n_mels, T]
        return torch.cat([mel.mean(dim=-1), mel.std(dim=-1)], dim=-1)

    return embed


def clap_embedder(scorer: object) -> EmbedFn:
    """CLAP audio embeddings from any ``ClapScorer``."""
    return scorer.embed_audio  # type: ignore[attr-defined, no-any-return]
