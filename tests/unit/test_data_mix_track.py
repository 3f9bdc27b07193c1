"""The mix as track k+1 of a batch: for audio the gain-scaled sum of the stems (`mix_stems`), for
latents the cache's encoded mix; a cache written before the mix latents is refused by name, and
encoding again into it adds them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from jen_composer.core.errors import DataError
from jen_composer.data import MultiTrackDataModule, encode_latent_cache
from jen_composer.data.mix import mix_stems
from tests.unit.test_data_latent_cache import SR, FakeEncoder, _cfg, _dataset


def _batch(dm: MultiTrackDataModule) -> dict:
    return next(iter(dm.val_dataloader() if len(dm.datasets.get("val", [])) else dm.train_dataloader()))


def test_latent_batches_carry_the_encoded_mix_last(tmp_path: Path) -> None:
    _dataset(tmp_path / "data")
    enc = FakeEncoder(0)
    encode_latent_cache(tmp_path / "data", tmp_path / "cache", enc, _cfg(tmp_path / "data", tmp_path / "cache"), progress=False,
                        with_mix=True)
    cfg = replace(_cfg(tmp_path / "data", tmp_path / "cache"), val_fraction=0.0, test_fraction=0.0)
    plain, with_mix = MultiTrackDataModule(cfg, encoder_checksum="fake-0"), MultiTrackDataModule(cfg, encoder_checksum="fake-0", with_mix=True)
    plain.setup(), with_mix.setup()
    a, b = plain.datasets["train"][0], with_mix.datasets["train"][0]
    assert a["latents"].shape[0] == 4 and b["latents"].shape[0] == 5
    assert torch.equal(a["latents"], b["latents"][:4])
    song = load_file(str(tmp_path / "cache" / f"{b['song_id']}.safetensors"))
    # the encoded mix of the gain-scaled stems (FakeEncoder is linear: encode(sum) == sum of encodes)
    assert torch.allclose(song["mix"], song["latents"].sum(0), atol=1e-5)


def test_audio_batches_append_the_gain_scaled_sum(tmp_path: Path) -> None:
    _dataset(tmp_path / "data")
    cfg = replace(_cfg(tmp_path / "data", tmp_path / "cache"), source="audio", latent_cache="", val_fraction=0.0, test_fraction=0.0)
    dm = MultiTrackDataModule(cfg, with_mix=True)
    dm.setup()
    item = dm.datasets["train"][0]["audio"]
    assert item.shape[0] == 5 and item.shape[-1] == int(0.25 * SR)
    assert torch.allclose(item[4], mix_stems(item[:4]), atol=1e-6)


def test_a_cache_without_mix_latents_is_refused_then_completed(tmp_path: Path) -> None:
    _dataset(tmp_path / "data", n_songs=3)
    cfg = _cfg(tmp_path / "data", tmp_path / "cache")
    encode_latent_cache(tmp_path / "data", tmp_path / "cache", FakeEncoder(0), cfg, progress=False)  # no mix
    before = {p.name: load_file(str(p))["latents"] for p in (tmp_path / "cache").glob("*.safetensors")}
    assert all("mix" not in load_file(str(p)) for p in (tmp_path / "cache").glob("*.safetensors"))
    dm = MultiTrackDataModule(cfg, encoder_checksum="fake-0", with_mix=True)
    with pytest.raises(DataError, match="has no mix latents .* data encode --with-mix"):
        dm.setup()
    MultiTrackDataModule(cfg, encoder_checksum="fake-0").setup()  # without the mix track it still serves
    again = encode_latent_cache(tmp_path / "data", tmp_path / "cache", FakeEncoder(0), cfg, progress=False)
    assert again.encoded == 0 and again.reused == 3  # without --with-mix nothing is encoded again
    summary = encode_latent_cache(tmp_path / "data", tmp_path / "cache", FakeEncoder(0), cfg, progress=False,
                                  with_mix=True)
    assert summary.encoded == 3 and summary.reused == 0
    for name, latents in before.items():  # only the mix was added; the stems' latents are the same tensors
        assert torch.equal(load_file(str(tmp_path / "cache" / name))["latents"], latents)
    MultiTrackDataModule(cfg, encoder_checksum="fake-0", with_mix=True).setup()
    assert np.isfinite(load_file(str(next((tmp_path / "cache").glob("*.safetensors"))))["mix"].numpy()).all()
