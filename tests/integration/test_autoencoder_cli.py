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
