"""`jen-composer autoencoder evaluate|export` on the tiny world."""

from __future__ import annotations

from pathlib import Path

from jen_composer.cli.main import main


def test_autoencoder_evaluate_prints_model_and_baselines(tiny_autoencoder: Path, tiny_songs: Path, capsys) -> None:
    assert main(["autoencoder", "evaluate", "--autoencoder", str(tiny_autoencoder), "--data", str(tiny_songs),
                 "--max-batches", "1"]) == 0
    out = capsys.readouterr().out
    for row in ("| model |", "| silence |", "| lowpass |"):
        assert row in out
    assert "si_sdr" in out
    assert "latent lag-1 autocorrelation:" in out


def test_autoencoder_export_missing_checkpoint_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["autoencoder", "export", "--ckpt", str(tmp_path / "none.ckpt"), "--out", str(tmp_path / "x")]) == 2
    assert "none.ckpt" in capsys.readouterr().err


def test_export_refuses_a_checkpoint_without_latent_statistics(tmp_path: Path, capsys) -> None:
    """A checkpoint saved before any validation pass has the initial statistics (mean 0, std 1):
    exporting it would silently train the composer on unnormalised latents."""
    import torch
    from omegaconf import OmegaConf

    from jen_composer.core.checkpoints import CHECKPOINT_KEY
    from jen_composer.core.config.autoencoder import AutoencoderConfig
    from jen_composer.models.autoencoder import WaveformVAE
    from jen_composer.models.autoencoder.export import MODULE_PREFIX

    cfg = AutoencoderConfig(latent_dim=4, base_channels=4, strides=[2, 2], channel_mults=[1, 2], dilations=[1])
    model = WaveformVAE(cfg)

    def save(path: Path) -> Path:
        state = {MODULE_PREFIX + k: v for k, v in model.state_dict().items()}
        torch.save({"state_dict": state, CHECKPOINT_KEY: {"config": {"autoencoder": OmegaConf.to_container(OmegaConf.structured(cfg), enum_to_str=True)}}}, path)
        return path

    fresh = save(tmp_path / "fresh.ckpt")
    assert main(["autoencoder", "export", "--ckpt", str(fresh), "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "fresh.ckpt" in err and "latent statistics were never computed" in err and "Traceback" not in err
    assert not (tmp_path / "a").exists()
    model.latent_std.fill_(0.5)
    assert main(["autoencoder", "export", "--ckpt", str(save(tmp_path / "validated.ckpt")), "--out", str(tmp_path / "b")]) == 0
