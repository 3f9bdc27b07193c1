"""Export/load: bit-identical reload, checksum, clear CheckpointErrors, codec adapters, DAC hint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.errors import CheckpointError
from jen_composer.models.autoencoder import (
    EncodecAdapter,
    WaveformVAE,
    compute_latent_stats,
    export_autoencoder,
    load_autoencoder,
)


def small_vae() -> WaveformVAE:
    torch.manual_seed(0)
    cfg = AutoencoderConfig(latent_dim=4, base_channels=4, strides=[2, 3], channel_mults=[1, 2], dilations=[1], channels=2)
    return WaveformVAE(cfg).eval()


def test_reloaded_export_is_bit_identical(tmp_path: Path) -> None:
    model = small_vae()
    compute_latent_stats(model, [torch.randn(3, 2, 2, 60)])
    out = export_autoencoder(model, tmp_path / "ae")
    meta = json.loads((out / "config.json").read_text())
    assert meta["kind"] == "waveform_vae" and meta["checksum"] == model.checksum()
    loaded = load_autoencoder(out)
    assert loaded.checksum() == model.checksum()
    wave = torch.randn(2, 2, 101)
    with torch.no_grad():
        z, z2 = model.encode(wave), loaded.encode(wave)
        assert torch.equal(z, z2)
        assert torch.equal(model.decode(z, 101), loaded.decode(z2, 101))
    assert torch.equal(loaded.latent_std, model.latent_std)


def test_missing_and_corrupt_artefacts_raise_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_autoencoder(tmp_path / "nowhere")
    out = export_autoencoder(small_vae(), tmp_path / "ae")
    (out / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="model.safetensors: corrupt"):
        load_autoencoder(out)
    (out / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing weights"):
        load_autoencoder(out)
    (out / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json: corrupt JSON"):
        load_autoencoder(out)


def test_tampered_weights_fail_checksum(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    out = export_autoencoder(small_vae(), tmp_path / "ae")
    state = load_file(str(out / "model.safetensors"))
    state["latent_std"] = state["latent_std"] * 2
    save_file(state, str(out / "model.safetensors"))
    with pytest.raises(CheckpointError, match="checksum"):
        load_autoencoder(out)


def tiny_encodec(tmp_path: Path, sampling_rate: int, channels: int) -> Path:
    from transformers import EncodecConfig, EncodecModel

    torch.manual_seed(0)
    cfg = EncodecConfig(
        sampling_rate=sampling_rate, audio_channels=channels, hidden_size=8, num_filters=4, num_residual_layers=1,
        upsampling_ratios=[4, 2], codebook_size=16, codebook_dim=8, num_lstm_layers=1, target_bandwidths=[1.5],
        normalize=sampling_rate == 48000, chunk_length_s=1.0 if sampling_rate == 48000 else None,
        overlap=0.01 if sampling_rate == 48000 else None,
    )
    path = tmp_path / f"encodec_{sampling_rate}"
    EncodecModel(cfg).save_pretrained(path)
    return path


@pytest.mark.parametrize(("sampling_rate", "channels"), [(24000, 1), (48000, 2)])
def test_encodec_adapter_shapes_and_export(tmp_path: Path, sampling_rate: int, channels: int) -> None:
    path = tiny_encodec(tmp_path, sampling_rate, channels)
    codec = load_autoencoder(path)
    assert isinstance(codec, EncodecAdapter)
    assert (codec.hop, codec.latent_dim, codec.sample_rate, codec.channels) == (8, 8, sampling_rate, channels)
    wave = torch.randn(2, channels, 83)
    with torch.no_grad():
        z = codec.encode(wave)
        assert z.shape == (2, 8, 11)
        assert codec.decode(z, 83).shape == wave.shape
        compute_latent_stats(codec, [wave])
        out = export_autoencoder(codec, tmp_path / "codec_export")
        again = load_autoencoder(out)
        assert torch.equal(again.encode(wave), codec.encode(wave))
    assert json.loads((out / "config.json").read_text())["kind"] == "encodec"


def test_unknown_hub_name_is_a_clear_error() -> None:
    with pytest.raises(CheckpointError, match="facebook/encodec_does_not_exist"):
        load_autoencoder("facebook/encodec_does_not_exist")  # offline: no hub


def test_dac_without_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dac", None)  # import dac -> ImportError
    with pytest.raises(CheckpointError, match="pip install descript-audio-codec"):
        load_autoencoder("dac_44khz")
