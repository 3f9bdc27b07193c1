"""Latent cache: written once, served as [B, k, d, L] batches, refused by a different encoder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import DataError
from jen_composer.data import LatentCache, LatentEncoder, MultiTrackDataModule, encode_latent_cache

SR, HOP, DIM = 8000, 16, 3
TRACKS = ["bass", "drums", "instrument", "melody"]


class FakeEncoder:
    """Average-pool by hop, then a fixed random projection to DIM channels (deterministic)."""

    sample_rate, channels, hop, latent_dim = SR, 1, HOP, DIM

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.proj = torch.randn(DIM, 1, generator=torch.Generator().manual_seed(seed))

    def encode(self, wave: torch.Tensor) -> torch.Tensor:
        pad = (-wave.shape[-1]) % HOP
        pooled = torch.nn.functional.avg_pool1d(torch.nn.functional.pad(wave, (0, pad)), HOP)
        return torch.einsum("dc,bcl->bdl", self.proj, pooled)

    def checksum(self) -> str:
        return f"fake-{self.seed}"


def _dataset(root: Path, n_songs: int = 5) -> None:
    rng = np.random.default_rng(0)
    for i in range(n_songs):
        folder = root / f"song{i}"
        folder.mkdir(parents=True)
        for t in TRACKS:
            sf.write(folder / f"{t}.wav", 0.3 * rng.standard_normal(SR + 5).astype(np.float32), SR, subtype="FLOAT")
        (folder / "meta.json").write_text(json.dumps({"caption": f"song {i}", "gains": {"drums": 0.5}}))


def _cfg(root: Path, cache: Path) -> DataConfig:
    return DataConfig(root=str(root), sample_rate=SR, snippet_seconds=0.25, source="latents",
                      latent_cache=str(cache), batch_size=2)


def test_cache_serves_latents_matching_the_encoder(tmp_path: Path) -> None:
    _dataset(tmp_path / "data")
    enc = FakeEncoder(0)
    assert isinstance(enc, LatentEncoder)
    summary = encode_latent_cache(tmp_path / "data", tmp_path / "cache", enc, DataConfig(sample_rate=SR, snippet_seconds=0.25), progress=False)
    assert summary.encoded == 5
    dm = MultiTrackDataModule(_cfg(tmp_path / "data", tmp_path / "cache"), encoder_checksum="fake-0")
    dm.setup()
    batch = next(iter(dm.val_dataloader()))
    window = math.ceil(0.25 * SR / HOP)
    assert batch["latents"].shape == (len(batch["song_id"]), 4, DIM, window)
    song, start = batch["song_id"][0], round(float(batch["start"][0]) * SR)
    raw = np.stack([sf.read(tmp_path / "data" / song / f"{t}.wav", dtype="float32")[0] for t in TRACKS])
    raw[1] *= 0.5  # drums gain
    want = enc.encode(torch.from_numpy(raw)[:, None])[..., start // HOP:start // HOP + window]
    assert torch.allclose(batch["latents"][0], want, atol=1e-6)
    assert batch["prompt"][0] == f"song {song[-1]}"
    again = encode_latent_cache(tmp_path / "data", tmp_path / "cache", enc, DataConfig(sample_rate=SR, snippet_seconds=0.25), progress=False)
    assert again.reused == 5 and again.encoded == 0


def test_cache_built_by_one_encoder_is_refused_by_another(tmp_path: Path) -> None:
    _dataset(tmp_path / "data", 2)
    encode_latent_cache(tmp_path / "data", tmp_path / "cache", FakeEncoder(0), DataConfig(sample_rate=SR, snippet_seconds=0.25), progress=False)
    with pytest.raises(DataError, match="built with encoder checksum fake-0.*fake-1"):
        encode_latent_cache(tmp_path / "data", tmp_path / "cache", FakeEncoder(1), DataConfig(sample_rate=SR, snippet_seconds=0.25), progress=False)
    with pytest.raises(DataError, match="fake-0.*fake-1"):
        LatentCache(tmp_path / "cache").check_encoder(FakeEncoder(1))
    dm = MultiTrackDataModule(_cfg(tmp_path / "data", tmp_path / "cache"), encoder_checksum="fake-1")
    with pytest.raises(DataError, match="cache.json was built with encoder checksum fake-0"):
        dm.setup()


def test_not_a_cache_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a latent cache"):
        LatentCache(tmp_path)
