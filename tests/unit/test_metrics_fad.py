"""FAD: identical sets give ~0, shifted sets more; cached reference statistics; FAD-inf."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.core.errors import DataError
from jen_composer.metrics.fad import (
    EmbeddingStats,
    embed_all,
    fad_inf,
    fad_result,
    frechet_distance,
    mel_embedder,
    reference_stats,
)


def _set(n: int, dim: int, offset: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)) + offset


def test_identical_sets_zero_and_shift_grows() -> None:
    x = _set(200, 8, 0.0, 0)
    ref = EmbeddingStats.from_embeddings(x)
    assert frechet_distance(ref, ref) == pytest.approx(0.0, abs=1e-6)
    near = frechet_distance(EmbeddingStats.from_embeddings(_set(200, 8, 0.5, 1)), ref)
    far = frechet_distance(EmbeddingStats.from_embeddings(_set(200, 8, 2.0, 1)), ref)
    assert 0.0 < near < far
    assert far == pytest.approx(8 * 4.0, rel=0.15)  # mean term dominates: ||2 * 1||^2


def test_fad_result_reports_clips_and_extrapolates() -> None:
    ref = EmbeddingStats.from_embeddings(_set(400, 4, 0.0, 0))
    gen = _set(64, 4, 0.0, 1)
    out = fad_result(gen, ref, with_inf=True)
    assert out["clips"] == 64 and out["reference_clips"] == 400
    assert out["fad_inf"] is not None and out["fad_inf"] < out["fad"]  # small-N bias removed
    assert fad_result(gen[:1], ref)["fad"] is None
    assert fad_inf(gen, ref)["slope"] > 0


def test_reference_cache_is_reused(tmp_path: Path) -> None:
    calls = []

    def clips() -> list[torch.Tensor]:
        calls.append(1)
        return [torch.randn(1600, generator=torch.Generator().manual_seed(i)) for i in range(6)]

    embed = mel_embedder(n_mels=16)
    first = reference_stats("bass", clips, embed, 16000, "mel16", tmp_path, ["a.wav:1"])
    second = reference_stats("bass", clips, embed, 16000, "mel16", tmp_path, ["a.wav:1"])
    assert len(calls) == 1 and np.allclose(first.mean, second.mean) and second.count == 6
    reference_stats("bass", clips, embed, 16000, "mel16", tmp_path, ["a.wav:2"])  # changed input
    assert len(calls) == 2 and len(list(tmp_path.glob("fad_ref_bass_*.npz"))) == 2
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    with pytest.raises(DataError, match="bad.npz"):
        EmbeddingStats.load(bad)


def test_mel_embeddings_separate_different_audio() -> None:
    g = torch.Generator().manual_seed(0)
    t = torch.arange(8000) / 16000
    tones = [torch.sin(2 * torch.pi * 220 * t) * (0.5 + 0.01 * i) for i in range(8)]
    noise = [0.3 * torch.randn(8000, generator=g) for _ in range(8)]
    embed = mel_embedder(n_mels=16)
    tone_emb, noise_emb = embed_all(embed, tones, 16000), embed_all(embed, noise, 16000)
    ref = EmbeddingStats.from_embeddings(tone_emb[:4])
    same = frechet_distance(EmbeddingStats.from_embeddings(tone_emb[4:]), ref)
    other = frechet_distance(EmbeddingStats.from_embeddings(noise_emb[4:]), ref)
    assert other > 10 * same


def test_frechet_distance_matches_scipy_sqrtm_and_survives_singular_covariances() -> None:
    from scipy import linalg

    a = EmbeddingStats.from_embeddings(_set(300, 6, 0.0, 2))
    b = EmbeddingStats.from_embeddings(_set(300, 6, 0.3, 3) * 1.5)
    reference = (a.mean - b.mean) @ (a.mean - b.mean) + np.trace(a.cov) + np.trace(b.cov) \
        - 2.0 * np.trace(np.real(linalg.sqrtm(a.cov @ b.cov)))
    assert frechet_distance(a, b) == pytest.approx(reference, rel=1e-6)
    few = EmbeddingStats.from_embeddings(_set(3, 8, 0.0, 4))  # 3 clips in 8 dimensions: rank-2 covariance
    value = frechet_distance(few, EmbeddingStats.from_embeddings(_set(3, 8, 0.0, 5)))
    assert np.isfinite(value) and value > 0
