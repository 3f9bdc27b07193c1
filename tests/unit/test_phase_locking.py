"""Peak-locked phase for the spectral decoder, and re-exporting a model with other decoding settings."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from jen_composer.cli.main import main
from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.errors import CheckpointError, ConfigError
from jen_composer.models.autoencoder import (
    WaveformVAE,
    export_autoencoder,
    load_autoencoder,
    reexport_autoencoder,
)
from jen_composer.models.autoencoder.spectral import griffin_lim, peak_locked_angles, stft_frames


def spectral(**kw: object) -> WaveformVAE:
    base = dict(
        architecture="spectral", spectral_phase="predicted", latent_dim=4, base_channels=4, strides=[4, 4],
        channel_mults=[1, 2], dilations=[1], kernel_size=3, sample_rate=8000,
    )
    base.update(kw)
    torch.manual_seed(0)
    return WaveformVAE(AutoencoderConfig(**base)).eval()  # type: ignore[arg-type]


def wrapped(a: torch.Tensor) -> torch.Tensor:
    return torch.remainder(a + math.pi, 2 * math.pi) - math.pi


def test_every_bin_takes_its_nearest_peaks_phase_plus_pi_per_bin() -> None:
    """Known answer on one frame: peaks at bins 2 and 5 (bin 4 is nearer 5); a tie goes to the lower."""
    magnitude = torch.tensor([0.1, 1.0, 3.0, 1.0, 0.2, 2.0, 0.5])[None, :, None]
    advance = torch.tensor([0.3, -1.0, 0.7, 2.0, 1.1, -0.4, 0.9])[None, :, None]
    got = torch.angle(peak_locked_angles(magnitude, advance))[0, :, 0]
    peak = torch.tensor([2, 2, 2, 2, 5, 5, 5])
    want = advance[0, peak, 0] + math.pi * (torch.arange(7) - peak)
    assert torch.allclose(wrapped(got - want), torch.zeros(7), atol=1e-5)
    tie = peak_locked_angles(torch.tensor([3.0, 1.0, 3.0])[None, :, None], torch.tensor([0.5, 0.0, -0.5])[None, :, None])
    assert torch.allclose(wrapped(torch.angle(tie)[0, :, 0] - torch.tensor([0.5, 0.5 + math.pi, -0.5])), torch.zeros(3), atol=1e-5)


def test_locked_phases_rebuild_a_chord_that_per_bin_integration_smears() -> None:
    """Given a chord's true magnitudes and true per-bin advances, integrating each bin on its own starts
    the bins of one tone out of step; locking them to their peak gives a waveform whose |STFT| is close
    to the target, and Griffin-Lim from magnitudes alone (32 iterations) does not get as close."""
    sr, n_fft, hop = 8000, 512, 128
    window = torch.hann_window(n_fft)
    t = torch.arange(sr, dtype=torch.float64) / sr
    wave = sum(0.2 * torch.sin(2 * math.pi * f * t + i) for i, f in enumerate((220.0, 277.2, 329.6))).float()[None]
    spec = stft_frames(wave, n_fft, hop, window)
    target = spec.abs()
    # each bin's advance from frame t - 1 to t; the first frame's phases are unknown (0), as when decoding
    advance = torch.angle(torch.cat([torch.ones_like(spec[..., :1]), spec[..., 1:] * spec[..., :-1].conj()], dim=-1))

    def distance(angles: torch.Tensor | None, iters: int = 0) -> float:
        got = stft_frames(griffin_lim(target, n_fft, hop, window, iters, angles=angles), n_fft, hop, window).abs()
        inner = (slice(None), slice(None), slice(8, -8))  # the clip's edges are zero-padded
        return float((got - target)[inner].norm() / target[inner].norm())

    per_bin = distance(torch.polar(torch.ones_like(advance), torch.cumsum(advance, dim=-1)))
    locked = distance(peak_locked_angles(target, advance))
    assert locked < 0.1 < 0.3 < per_bin
    assert locked < distance(None, 32)


def test_a_model_decodes_with_locked_phases_when_asked() -> None:
    base, locked = spectral(spectral_phase_iters=0), spectral(spectral_phase_iters=0, spectral_phase_locking=True)
    locked.load_state_dict(base.state_dict())
    z = torch.randn(1, 4, 40)
    with torch.no_grad():
        magnitude, advance = locked.decoder.heads(locked.denormalise(z))
        want = torch.istft(magnitude * peak_locked_angles(magnitude, advance), locked.decoder.n_fft, locked.hop,
                           window=locked.decoder.window, center=True, length=40 * locked.hop)
        got = locked.decode(z)[0]
        assert torch.allclose(got, want, atol=1e-5)
        assert not torch.allclose(got, base.decode(z)[0], atol=1e-3)


def test_phase_locking_needs_predicted_advances() -> None:
    with pytest.raises(ConfigError, match="autoencoder.spectral_phase_locking"):
        spectral(spectral_phase="griffin_lim", spectral_phase_locking=True)


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_a_reexport_changes_decoding_only(tmp_path: Path, dtype: str) -> None:
    """Same weights (stored as the source stored them), same latents, same checksum (so latent caches
    made with the source stay valid); the decoding settings are the new ones."""
    source = export_autoencoder(spectral(), tmp_path / "src", dtype)
    out = reexport_autoencoder(source, tmp_path / "locked", {"spectral_phase_locking": True, "spectral_phase_iters": 0})
    before, after = load_autoencoder(source), load_autoencoder(out)
    config = json.loads((out / "config.json").read_text())
    assert config["weights_dtype"] == dtype
    assert config["config"]["spectral_phase_locking"] is True and config["config"]["spectral_phase_iters"] == 0
    assert "spectral_phase_locking" not in json.loads((source / "config.json").read_text())["config"]
    assert after.checksum() == before.checksum() == config["checksum"]
    wave = torch.randn(1, 1, 800) * 0.1
    with torch.no_grad():
        assert torch.equal(after.encode(wave), before.encode(wave))
        z = before.encode(wave)
        assert not torch.allclose(after.decode(z), before.decode(z), atol=1e-3)
    assert spectral(latent_dim=5).checksum() != before.checksum()


def test_a_reexport_refuses_keys_that_change_weights_or_latents(tmp_path: Path) -> None:
    source = export_autoencoder(spectral(), tmp_path / "src")
    with pytest.raises(ConfigError, match="autoencoder.latent_dim"):
        reexport_autoencoder(source, tmp_path / "x", {"latent_dim": 8})
    with pytest.raises(ConfigError, match="--out"):
        reexport_autoencoder(source, source, {"spectral_phase_iters": 0})
    waveform = export_autoencoder(spectral(architecture="waveform", spectral_phase="griffin_lim"), tmp_path / "wave")
    with pytest.raises(CheckpointError, match="only a spectral autoencoder"):
        reexport_autoencoder(waveform, tmp_path / "x", {"spectral_phase_iters": 0})
    assert not (tmp_path / "x").exists()


def test_the_documented_reexport_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README / autoencoder_bench.md: ``jen-composer autoencoder export --autoencoder DIR --out OUT
    autoencoder.spectral_phase_locking=true autoencoder.spectral_phase_iters=0``."""
    source = export_autoencoder(spectral(), tmp_path / "src")
    out = tmp_path / "locked"
    assert main(["autoencoder", "export", "--autoencoder", str(source), "--out", str(out),
                 "autoencoder.spectral_phase_locking=true", "autoencoder.spectral_phase_iters=0"]) == 0
    assert load_autoencoder(out).decoder.phase_locking
    for bad, says in ((["autoencoder.latent_dim=8"], "autoencoder.latent_dim"), (["latent_dim=8"], "autoencoder.KEY=VALUE"),
                      (["autoencoder.spectral_phase_iters=many"], "spectral_phase_iters")):
        assert main(["autoencoder", "export", "--autoencoder", str(source), "--out", str(tmp_path / "bad"), *bad]) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["autoencoder", "export", "--ckpt", "x.ckpt", "--out", str(tmp_path / "bad"),
                 "autoencoder.spectral_phase_iters=0"]) == 2
    assert "--autoencoder" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_a_frame_without_a_peak_does_not_crash() -> None:
    magnitude = torch.rand(2, 9, 5)
    magnitude[0, :, 2] = float("nan")
    magnitude[1, ::2, 3] = float("nan")
    assert peak_locked_angles(magnitude, torch.zeros_like(magnitude)).shape == magnitude.shape


def test_an_export_recorded_with_the_full_description_still_loads(tmp_path: Path) -> None:
    """Exports written before decoding keys left the checksum recorded it over the whole description;
    with spectral_phase_iters other than the default that differs from today's checksum, and loads."""
    model = spectral(spectral_phase_iters=8)
    assert model.full_checksum() != model.checksum()
    folder = export_autoencoder(model, tmp_path / "old")
    config = json.loads((folder / "config.json").read_text())
    for recorded, loads in ((model.full_checksum(), True), ("0123456789abcdef", False)):
        (folder / "config.json").write_text(json.dumps({**config, "checksum": recorded}))
        if loads:
            assert load_autoencoder(folder).checksum() == model.checksum()
        else:
            with pytest.raises(CheckpointError, match="differs from recorded"):
                load_autoencoder(folder)
