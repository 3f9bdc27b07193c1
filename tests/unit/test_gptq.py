"""Calibrated rounding (GPTQ) onto nf4 / nf3 and the nf3 storage: a layer's output moves less than under
nearest rounding, the result is exactly what `pack` stores, weight norm keeps each row's factor, and
`autoencoder export --calibrate` (autoencoder_bench.md) rounds on training songs and records how."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from jen_composer.core.gptq import GramMatrix, gptq_round
from jen_composer.core.weight_storage import (
    NF3_SCALE,
    NF3_SHAPE,
    NF_BLOCK,
    NF_LEVELS,
    block_scales,
    pack,
    unpack,
)
from jen_composer.models.autoencoder import (
    WaveformVAE,
    compute_latent_stats,
    export_autoencoder,
    load_autoencoder,
)
from jen_composer.models.calibrated_rounding import calibrated_rounding, roundable_layers


def _layer_problem(rows: int = 48, columns: int = 200, samples: int = 1500) -> tuple[torch.Tensor, torch.Tensor]:
    """A weight and correlated inputs (as a layer's inputs are): where error feedback has something to use."""
    torch.manual_seed(0)
    weight = torch.randn(rows, columns)
    inputs = torch.randn(samples, columns) @ torch.randn(columns, columns) * 0.2 + torch.randn(samples, 1)
    return weight, inputs


def _stored(weight: torch.Tensor, dtype: str) -> torch.Tensor:
    return unpack(pack({"w": weight}, {"w"}, dtype))["w"]


@pytest.mark.parametrize("dtype", ["nf4", "nf3"])
@pytest.mark.parametrize("act_order", [True, False])
def test_gptq_moves_the_layer_output_less_than_nearest_rounding_and_is_stored_exactly(dtype: str, act_order: bool) -> None:
    weight, inputs = _layer_problem()
    gram = GramMatrix(weight.shape[1])
    for part in inputs.split(400):  # accumulated over batches = computed at once
        gram.add(part)
    assert gram.rows == inputs.shape[0] and torch.allclose(gram.matrix, inputs.double().T @ inputs.double())
    rounded = gptq_round(weight, gram.matrix, dtype, act_order=act_order)
    nearest = _stored(weight, dtype)

    def moved(w: torch.Tensor) -> float:
        return float(((w - weight) @ inputs.T).norm() / (weight @ inputs.T).norm())

    assert moved(rounded) < 0.8 * moved(nearest)
    assert torch.equal(_stored(rounded, dtype), rounded)  # on the grid, with the scales pack computes
    once, twice = pack({"w": rounded}, {"w"}, dtype), pack({"w": _stored(rounded, dtype)}, {"w"}, dtype)
    assert all(torch.equal(once[k], twice[k]) for k in once)
    assert torch.equal(block_scales(rounded), block_scales(weight))  # every block keeps its scale
    levels = NF_LEVELS[dtype]
    scale = block_scales(weight).repeat_interleave(NF_BLOCK, dim=1)[:, : weight.shape[1]]
    assert bool(torch.isclose(rounded / scale, levels[(rounded / scale)[..., None].sub(levels).abs().argmin(-1)]).all())


def test_gptq_rounds_inputs_never_seen_and_refuses_shapes_that_do_not_fit() -> None:
    weight, inputs = _layer_problem(8, 70, 300)
    inputs[:, 5] = 0.0  # an input channel that is always silent
    rounded = gptq_round(weight, inputs.double().T @ inputs.double(), "nf3")
    assert torch.isfinite(rounded).all() and torch.equal(_stored(rounded, "nf3"), rounded)
    with pytest.raises(ValueError, match="a weight \\[rows, columns\\] and a Gram matrix"):
        gptq_round(weight, torch.eye(69, dtype=torch.float64), "nf3")


def test_nf3_stores_eight_codes_in_three_bytes_at_the_nearest_of_eight_levels() -> None:
    levels = NF_LEVELS["nf3"]
    assert levels.numel() == 8 and levels[0] == -1 and levels[-1] == 1 and bool((levels == 0).any())
    assert bool((levels[1:] > levels[:-1]).all())
    torch.manual_seed(1)
    weight = torch.randn(7, 5, 30)
    packed = pack({"w": weight, "g": torch.rand(7, 1, 1) + 0.5}, {"w", "g"}, "nf3")
    blocks = -(-150 // NF_BLOCK)
    assert packed["w"].dtype == torch.uint8 and packed["w"].shape == (7, blocks * NF_BLOCK * 3 // 8)
    assert packed["w" + NF3_SCALE].shape == (7, blocks) and packed["w" + NF3_SHAPE].tolist() == [7, 5, 30]
    assert packed["g"].dtype == torch.float16  # one value per slice: its own scale, stored as float16
    back = unpack(packed)["w"].reshape(7, -1)
    scale = block_scales(weight.reshape(7, -1)).repeat_interleave(NF_BLOCK, dim=1)[:, :150]
    nearest = levels[(weight.reshape(7, -1) / scale)[..., None].sub(levels).abs().argmin(-1)] * scale
    assert torch.allclose(back, nearest, atol=1e-6)
    with pytest.raises(ValueError, match="nf3 codes"):
        unpack({**packed, "w": packed["w"][:, :-3]})
    with pytest.raises(ValueError, match="without both their scales and their shape"):
        unpack({k: v for k, v in packed.items() if k != "w" + NF3_SHAPE})


def _spectral_vae() -> WaveformVAE:
    from jen_composer.core.config.autoencoder import AutoencoderConfig

    torch.manual_seed(0)
    cfg = AutoencoderConfig(architecture="spectral", latent_dim=8, base_channels=4, strides=[4, 4], channel_mults=[2, 4],
                            dilations=[1, 3], channels=1, spectral_phase="predicted", spectral_phase_iters=0)
    model = WaveformVAE(cfg).eval()
    compute_latent_stats(model, [torch.randn(2, 1, 1, 4096) * 0.1])
    return model


def _waveform_vae() -> WaveformVAE:
    from jen_composer.core.config.autoencoder import AutoencoderConfig

    torch.manual_seed(0)
    model = WaveformVAE(AutoencoderConfig(latent_dim=4, base_channels=8, strides=[2, 3], channel_mults=[1, 2],
                                          dilations=[1], channels=1)).eval()
    compute_latent_stats(model, [torch.randn(3, 1, 1, 240)])
    return model


@pytest.mark.parametrize("make", [_spectral_vae, _waveform_vae])
def test_calibrated_rounding_of_an_autoencoder(make, one_thread) -> None:  # type: ignore[no-untyped-def]
    """Every roundable kernel lies on the nf3 grid; weight norm keeps each row's factor g / |v|; the
    reconstructions of the calibration clips stay closer to the float model's than nearest rounding's."""
    model = make()
    torch.manual_seed(2)
    t = torch.arange(4096) / 16000
    batches = [torch.stack([torch.sin(2 * torch.pi * f * t)[None] * 0.3 + 0.02 * torch.randn(1, 4096)
                            for f in (110.0 * k, 220.0 * k, 330.0 * k)]) for k in (1, 2)]

    def forward(m: torch.nn.Module, wave: torch.Tensor) -> torch.Tensor:
        return m.decode(m.encode(wave), length=wave.shape[-1])

    lines: list[str] = []
    rounded = calibrated_rounding(model, batches, forward, "nf3", lines.append)
    layers = roundable_layers(model)
    assert layers and len(lines) == len(layers)
    params = dict(rounded.named_parameters())
    for name, module in layers:
        key = name + (".parametrizations.weight.original1" if hasattr(module, "parametrizations") else ".weight")
        kernel = params[key].detach()
        flat = kernel.reshape(kernel.shape[0], -1)
        assert torch.equal(_stored(flat, "nf3"), flat), key
        if hasattr(module, "parametrizations"):
            g_old = dict(model.named_parameters())[name + ".parametrizations.weight.original0"].detach()
            v_old = dict(model.named_parameters())[key].detach()
            dims = tuple(range(1, kernel.dim()))
            expected = kernel * g_old / v_old.norm(dim=dims, keepdim=True)
            assert torch.allclose(dict(rounded.named_modules())[name].weight.detach(), expected, rtol=1e-4, atol=1e-6)
    nearest = make()
    nearest.load_state_dict(unpack(pack(model.state_dict(), {n for n, _ in model.named_parameters()}, "nf3")))
    with torch.no_grad():
        reference = [forward(model, b) for b in batches]

        def distance(m: torch.nn.Module) -> float:
            return sum(float((forward(m, b) - r).norm()) for b, r in zip(batches, reference, strict=True))

        assert distance(rounded) < distance(nearest)
    with pytest.raises(ValueError, match="rounds onto nf4, nf3, not int8"):
        calibrated_rounding(model, batches, forward, "int8")


def test_the_documented_calibrated_export_command_line(tiny_songs: Path, tmp_path: Path, one_thread,  # type: ignore[no-untyped-def]
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """autoencoder_bench.md: ``jen-composer autoencoder export --autoencoder DIR --out OUT --weights-dtype nf3
    --calibrate DATA --calibration-songs N`` rounds on the first N training songs, stores nf3 and records how;
    the export re-exported at its own storage keeps every stored tensor."""
    from safetensors.torch import load_file

    from jen_composer.cli.main import main
    from jen_composer.data.index import list_song_dirs
    from jen_composer.data.splits import resolve_splits

    source = export_autoencoder(_spectral_vae(), tmp_path / "f32")
    out = tmp_path / "nf3"
    assert main(["autoencoder", "export", "--autoencoder", str(source), "--out", str(out), "--weights-dtype", "nf3",
                 "--calibrate", str(tiny_songs), "--calibration-songs", "2"]) == 0
    assert "rounded " in capsys.readouterr().out
    meta = json.loads((out / "config.json").read_text())
    train = sorted(resolve_splits(tiny_songs, [d.name for d in list_song_dirs(tiny_songs)], 0, 0.2, 0.1)["train"])
    assert meta["weights_dtype"] == "nf3" and meta["rounding"]["method"] == "gptq"
    assert meta["rounding"]["songs"] == train[:2] and meta["rounding"]["split"] == "train"
    stored = load_file(str(out / "model.safetensors"))
    assert any(k.endswith(NF3_SCALE) for k in stored)
    load_autoencoder(out)  # the recorded checksum is the rebuilt model's
    again = tmp_path / "again"
    assert main(["autoencoder", "export", "--autoencoder", str(out), "--out", str(again)]) == 0
    second = load_file(str(again / "model.safetensors"))
    assert second.keys() == stored.keys() and all(torch.equal(second[k], stored[k]) for k in stored)
    assert json.loads((again / "config.json").read_text())["rounding"] == meta["rounding"]  # the same values: still true
    assert main(["autoencoder", "export", "--autoencoder", str(out), "--out", str(tmp_path / "nf4"), "--weights-dtype", "nf4"]) == 0
    assert "rounding" not in json.loads((tmp_path / "nf4" / "config.json").read_text())  # rounded again: no longer
    assert (again / "model.safetensors").stat().st_size < 0.3 * (tmp_path / "f32" / "model.safetensors").stat().st_size  # a toy: names weigh


@pytest.mark.parametrize("extra,message", [
    (["--calibrate", "d"], "--calibrate: needs --weights-dtype nf4 or nf3 (got none)"),
    (["--calibrate", "d", "--weights-dtype", "int8"], "--calibrate: needs --weights-dtype nf4 or nf3 (got int8)"),
    (["--calibration-songs", "3"], "--calibration-songs: goes with --calibrate"),
    (["--calibrate", "d", "--weights-dtype", "nf3", "--calibration-songs", "0"], "--calibration-songs: 0; at least 1"),
    (["ckpt", "--calibrate", "d", "--weights-dtype", "nf3"], "--calibrate: rounds an exported folder (--autoencoder)"),
])
def test_bad_calibration_arguments_are_one_line(extra: list[str], message: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from jen_composer.cli.main import main

    source = export_autoencoder(_waveform_vae(), tmp_path / "f32")
    origin = ["--ckpt", "x.ckpt"] if extra[0] == "ckpt" else ["--autoencoder", str(source)]
    assert main(["autoencoder", "export", *origin, "--out", str(tmp_path / "bad"), *extra[extra[0] == "ckpt":]]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and "Traceback" not in err, err
    assert not (tmp_path / "bad").exists()


def test_calibration_data_that_does_not_fit_is_one_line(tiny_songs: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """No such folder, another channel count: a DataError naming the folder or file, nothing
    written; GPTQ failing inside (a weight beyond float16) is a CheckpointError naming the export."""
    from jen_composer.cli.main import main
    from jen_composer.core.config.autoencoder import AutoencoderConfig
    from jen_composer.core.errors import CheckpointError, DataError
    from jen_composer.workflows.calibrated_export import calibrated_export

    source = export_autoencoder(_spectral_vae(), tmp_path / "f32")
    assert main(["autoencoder", "export", "--autoencoder", str(source), "--out", str(tmp_path / "bad"),
                 "--weights-dtype", "nf3", "--calibrate", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert "none: no such dataset folder to calibrate on" in err and err.count("\n") == 0
    torch.manual_seed(0)
    stereo = WaveformVAE(AutoencoderConfig(latent_dim=4, base_channels=8, strides=[2, 3], channel_mults=[1, 2],
                                           dilations=[1], channels=2)).eval()
    with pytest.raises(DataError, match="bass.wav: 1 channel\\(s\\) x 65536 samples; calibration needs 2 channel\\(s\\)"):
        calibrated_export(export_autoencoder(stereo, tmp_path / "stereo"), tmp_path / "bad", {}, "nf3", tiny_songs,
                          songs=1, log=lambda _: None)
    huge = _spectral_vae()
    with torch.no_grad():
        next(p for n, p in huge.named_parameters() if n.endswith("original1")).mul_(1e6)
    with pytest.raises(CheckpointError, match="calibrated rounding failed .*beyond nf3's float16 block scales"):
        calibrated_export(export_autoencoder(huge, tmp_path / "huge"), tmp_path / "bad", {}, "nf3", tiny_songs, songs=1,
                          log=lambda _: None)
    assert not (tmp_path / "bad").exists()
