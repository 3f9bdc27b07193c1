"""Stored weights (float32 / float16 / int8 per output channel / nf4 per block): known levels and rounding
bounds, smaller files, loads that rebuild the recorded checksum, and an unknown dtype refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.errors import ConfigError
from jen_composer.core.weight_storage import (
    NF4_BLOCK,
    NF4_LEVELS,
    NF4_SCALE,
    NF4_SHAPE,
    SCALE_SUFFIX,
    pack,
    unpack,
)
from jen_composer.models.autoencoder import (
    WaveformVAE,
    compute_latent_stats,
    export_autoencoder,
    load_autoencoder,
)


def test_int8_rounds_each_output_channel_to_half_a_step_of_its_own_scale() -> None:
    torch.manual_seed(0)
    w = torch.randn(5, 3, 7) * torch.tensor([1e-3, 0.1, 1.0, 10.0, 0.0])[:, None, None]  # very different channels
    bias = torch.randn(5)
    alpha = torch.rand(1, 5, 1) + 0.5  # Snake's per-channel alphas: one slice along dim 0, so no shared int8 scale
    packed = pack({"w": w, "b": bias, "buf": bias.clone(), "alpha": alpha}, {"w", "b", "alpha"}, "int8")
    assert packed["w"].dtype == torch.int8 and packed["b"].dtype == torch.float16 and packed["buf"].dtype == torch.float32
    assert packed["alpha"].dtype == torch.float16 and "alpha" + SCALE_SUFFIX not in packed
    scale = packed["w" + SCALE_SUFFIX]
    assert torch.allclose(scale[:4], w[:4].abs().amax(dim=(1, 2)) / 127)
    back = unpack(packed)
    assert set(back) == {"w", "b", "buf", "alpha"} and back["w"].dtype == torch.float32
    err = (back["w"] - w).abs().amax(dim=(1, 2))
    assert bool((err <= scale / 2 * (1 + 1e-5)).all())  # round to nearest: at most half a step
    assert torch.equal(back["w"][4], torch.zeros(3, 7))  # an all-zero channel stays zero (no division by 0)
    assert torch.equal(back["buf"], bias)


def test_nf4_levels_are_the_published_normal_float_table() -> None:
    """The 16 NF4 values as printed in QLoRA (Dettmers et al. 2023, appendix E), to their 4 decimals."""
    published = [-1.0, -0.6962, -0.5251, -0.3949, -0.2844, -0.1848, -0.0911, 0.0,
                 0.0796, 0.1609, 0.2461, 0.3379, 0.4407, 0.5626, 0.7230, 1.0]
    assert torch.allclose(NF4_LEVELS, torch.tensor(published), atol=1e-4)


def test_nf4_rounds_each_value_to_the_nearest_level_of_its_block() -> None:
    torch.manual_seed(0)
    w = torch.randn(7, 5, 30) * torch.tensor([1e-3, 0.1, 1.0, 10.0, 0.0, 1.0, 1e-5])[:, None, None]  # 150 values: 3 blocks a slice
    w[5, 0, :] = 0.0  # zeros inside a block stay zero (NF4 holds an exact 0)
    bias = torch.randn(6)
    packed = pack({"w": w, "b": bias}, {"w", "b"}, "nf4")
    blocks = -(-150 // NF4_BLOCK)
    assert packed["w"].dtype == torch.uint8 and packed["w"].shape == (7, blocks * NF4_BLOCK // 2)  # two codes a byte
    assert packed["w" + NF4_SCALE].shape == (7, blocks) and packed["w" + NF4_SCALE].dtype == torch.float16
    assert packed["w" + NF4_SHAPE].tolist() == [7, 5, 30] and packed["b"].dtype == torch.float16
    back = unpack(packed)["w"]
    assert back.shape == w.shape and back.dtype == torch.float32
    flat, got = w.reshape(7, -1), back.reshape(7, -1)
    for row in range(7):
        for block in range(blocks):
            part = slice(block * NF4_BLOCK, (block + 1) * NF4_BLOCK)
            scale = float(packed["w" + NF4_SCALE][row, block])
            candidates = NF4_LEVELS[None, :] * scale  # every value: the nearest of its block's 16 values
            nearest = candidates[0, (flat[row, part, None] - candidates).abs().argmin(dim=1)]
            assert torch.allclose(got[row, part], nearest, rtol=0, atol=1e-6 * max(scale, 1e-30)), (row, block)
    assert torch.equal(back[4], torch.zeros(5, 30)) and torch.equal(back[5, 0], torch.zeros(30))
    big = flat.abs().argmax(dim=1)  # each slice's largest value is a block maximum: kept to float16 precision
    assert torch.allclose(got[torch.arange(7), big], flat[torch.arange(7), big], rtol=1e-3)
    assert (got[6] - flat[6]).norm() < 0.15 * flat[6].norm()  # a 1e-5 slice: float16 subnormal scales, still right


@pytest.mark.parametrize("value", [1e6, float("inf"), float("nan")])
def test_nf4_refuses_values_its_float16_scales_cannot_hold(value: float) -> None:
    w = torch.randn(4, 64)
    w[2, 5] = value
    with pytest.raises(ConfigError, match=r"weights_dtype nf4: w holds .*, beyond the float16 block scales"):
        pack({"w": w}, {"w"}, "nf4")


def test_nf4_codes_that_do_not_fit_their_shape_are_refused() -> None:
    packed = pack({"w": torch.randn(4, 100)}, {"w"}, "nf4")
    with pytest.raises(ValueError, match=r"w: nf4 codes torch.uint8 \(4, 64\) and scales \(4, 1\) do not fit a tensor of shape \(4, 100\)"):
        unpack({**packed, "w" + NF4_SCALE: packed["w" + NF4_SCALE][:, :1]})
    with pytest.raises(ValueError, match="w: an nf4 shape must be a list of sizes"):
        unpack({**packed, "w" + NF4_SHAPE: packed["w" + NF4_SHAPE].float()})
    with pytest.raises(ValueError, match="w: an nf4 shape must be a list of sizes"):
        unpack({**packed, "w" + NF4_SHAPE: packed["w" + NF4_SHAPE][None]})
    with pytest.raises(ValueError, match="w: nf4 codes without both their scales and their shape"):
        unpack({k: v for k, v in packed.items() if k != "w" + NF4_SHAPE})


def test_float16_and_float32_storage() -> None:
    w = torch.randn(4, 4)
    assert unpack(pack({"w": w}, {"w"}, "float32"))["w"] is w
    assert torch.equal(unpack(pack({"w": w}, {"w"}, "float16"))["w"], w.half())


def _vae() -> WaveformVAE:
    torch.manual_seed(0)
    cfg = AutoencoderConfig(latent_dim=4, base_channels=32, strides=[2, 3], channel_mults=[1, 2], dilations=[1], channels=1)
    model = WaveformVAE(cfg).eval()
    compute_latent_stats(model, [torch.randn(3, 1, 1, 240)])
    return model


@pytest.mark.parametrize("dtype,ratio,tolerance", [("float16", 0.55, 2e-3), ("int8", 0.32, 3e-2), ("nf4", 0.3, 0.2)])  # nf4: a toy VAE of small tensors, so names and padding weigh
def test_a_smaller_export_reloads_to_its_recorded_checksum_and_nearly_the_same_model(
        tmp_path: Path, dtype: str, ratio: float, tolerance: float) -> None:
    model = _vae()
    full = export_autoencoder(model, tmp_path / "f32")
    small = export_autoencoder(model, tmp_path / dtype, weights_dtype=dtype)
    assert (small / "model.safetensors").stat().st_size < ratio * (full / "model.safetensors").stat().st_size
    meta = json.loads((small / "config.json").read_text())
    loaded = load_autoencoder(small)  # the load checks the recorded checksum itself
    assert meta["weights_dtype"] == dtype and meta["checksum"] == loaded.checksum() != model.checksum()
    assert torch.equal(loaded.latent_mean, model.latent_mean) and torch.equal(loaded.latent_std, model.latent_std)
    wave = torch.randn(2, 1, 600) * 0.3
    with torch.no_grad():
        z, z2 = model.encode(wave), loaded.encode(wave)
        assert (z2 - z).norm() < tolerance * z.norm()
        y, y2 = model.decode(z, 600), loaded.decode(z, 600)
        assert (y2 - y).norm() < tolerance * y.norm()


def test_unknown_storage_dtype_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="weights_dtype: 'bfloat8' is not one of float32, float16, int8, nf4"):
        export_autoencoder(_vae(), tmp_path / "ae", weights_dtype="bfloat8")
    assert not (tmp_path / "ae").exists()


def test_a_scale_that_does_not_fit_its_tensor_is_a_one_line_checkpoint_error(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from jen_composer.core.errors import CheckpointError

    out = export_autoencoder(_vae(), tmp_path / "ae", weights_dtype="int8")
    state = load_file(str(out / "model.safetensors"))
    name = next(k for k in state if k.endswith(SCALE_SUFFIX))
    state[name] = state[name][:-1]
    save_file(state, str(out / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"model.safetensors: corrupt safetensors file \(.*int8 scale of shape"):
        load_autoencoder(out)
    meta = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**meta, "weights_dtype": "int4"}))
    with pytest.raises(CheckpointError, match="config.json: weights_dtype 'int4' is not one of"):
        load_autoencoder(out)


def test_the_documented_storage_reexport_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """autoencoder_bench.md: ``jen-composer autoencoder export --autoencoder DIR --out OUT --weights-dtype nf4``
    stores an export as a bundle would (the same tensors as `export_autoencoder(..., "nf4")`); a re-export
    without the flag keeps the source's storage; an unknown storage is one line and writes nothing."""
    from safetensors.torch import load_file

    from jen_composer.cli.main import main

    model = _vae()
    full = export_autoencoder(model, tmp_path / "f32")
    direct = export_autoencoder(model, tmp_path / "direct", weights_dtype="nf4")
    out = tmp_path / "nf4"
    assert main(["autoencoder", "export", "--autoencoder", str(full), "--out", str(out), "--weights-dtype", "nf4"]) == 0
    got, want = load_file(str(out / "model.safetensors")), load_file(str(direct / "model.safetensors"))
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)
    assert json.loads((out / "config.json").read_text()) == json.loads((direct / "config.json").read_text())
    again = tmp_path / "again"
    assert main(["autoencoder", "export", "--autoencoder", str(out), "--out", str(again)]) == 0
    assert json.loads((again / "config.json").read_text())["weights_dtype"] == "nf4"
    for source in (["--autoencoder", str(full)], ["--ckpt", "x.ckpt"]):
        assert main(["autoencoder", "export", *source, "--out", str(tmp_path / "bad"), "--weights-dtype", "int4"]) == 2
        err = capsys.readouterr().err
        assert "int4" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
