"""`accept`: one generation per task, clip and checkpoint; paired comparisons with 95% intervals."""

from __future__ import annotations

import json
from pathlib import Path

from jen_composer.cli.main import main


def test_accept_compares_conditional_with_joint_and_swapped(tiny_composer_run, tmp_path: Path, capsys) -> None:
    _, result = tiny_composer_run
    ckpt, out = str(result.last_checkpoint), tmp_path / "accept"
    code = main(["accept", "--ckpt", ckpt, "--ckpt", ckpt, "--clips", "2", "--split", "train", "--seconds", "1.0",
                 "--out", str(out)])
    data = json.loads((out / "acceptance.json").read_text())
    assert code == (0 if data["passed"] else 1)
    assert [(c["a"], c["b"]) for c in data["comparisons"]] == [("conditional", "joint")] * 2 + [
        ("conditional", "conditional_swapped")] * 2
    values = data["values"]["conditional_swapped"]["harmonic_fit"]
    assert len(values) == 2 and len(values[0]) == 2  # [training seeds, clips]
    assert all(c["holds"] == (c["low"] > 0) for c in data["comparisons"])
    assert "conditional - conditional_swapped" in capsys.readouterr().out


def test_accept_refuses_a_single_clip(tiny_composer_run, tmp_path: Path, capsys) -> None:
    _, result = tiny_composer_run
    assert main(["accept", "--ckpt", str(result.last_checkpoint), "--clips", "1", "--out", str(tmp_path)]) == 2
    assert "at least two" in capsys.readouterr().err


def test_accept_ladder_scores_originals_and_every_strength(tiny_composer_run, tmp_path: Path, capsys) -> None:
    _, result = tiny_composer_run
    out = tmp_path / "ladder"
    code = main(["accept", "--ckpt", str(result.last_checkpoint), "--ladder", "0.5,1", "--clips", "2", "--split", "train",
                 "--seconds", "1.0", "--out", str(out)])
    assert code == 0
    data = json.loads((out / "ladder.json").read_text())
    assert list(data["summary"]) == ["original", "s=0.5", "s=1"]
    original = data["values"]["original"]["harmonic_fit"]
    assert len(original) == 2 and all(0.0 <= v <= 1.0 for v in original)  # real stems carry chords: measurable
    assert "| s=1 |" in capsys.readouterr().out


def test_accept_ladder_refuses_a_strength_outside_the_range(tiny_composer_run, tmp_path: Path, capsys) -> None:
    _, result = tiny_composer_run
    assert main(["accept", "--ckpt", str(result.last_checkpoint), "--ladder", "0,1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--ladder" in err and "(0, 1]" in err and "Traceback" not in err
    assert main(["accept", "--ckpt", str(result.last_checkpoint), "--ladder", "half", "--out", str(tmp_path)]) == 2
    assert "not a comma-separated list" in capsys.readouterr().err


def test_accept_decodes_through_another_export_only_if_it_encodes_the_same(
        tiny_composer_run, tiny_autoencoder: Path, tmp_path: Path, capsys) -> None:
    """`accept --autoencoder DIR`: a copy (or a re-export with other decoding settings) of the checkpoint's
    autoencoder is used and recorded; one with other weights is refused in one line, before any generation."""
    import shutil

    import torch

    from jen_composer.models.autoencoder import export_autoencoder, load_autoencoder

    _, result = tiny_composer_run
    ckpt = str(result.last_checkpoint)
    same = Path(shutil.copytree(tiny_autoencoder, tmp_path / "same"))
    out = tmp_path / "accept"
    code = main(["accept", "--ckpt", ckpt, "--autoencoder", str(same), "--clips", "2", "--split", "train",
                 "--seconds", "1.0", "--out", str(out)])
    data = json.loads((out / "acceptance.json").read_text())
    assert code == (0 if data["passed"] else 1) and data["autoencoder"] == str(same)
    other = load_autoencoder(tiny_autoencoder)
    with torch.no_grad():
        next(other.parameters()).add_(0.01)
    export_autoencoder(other, tmp_path / "other")
    assert main(["accept", "--ckpt", ckpt, "--autoencoder", str(tmp_path / "other"), "--clips", "2", "--split", "train",
                 "--seconds", "1.0", "--out", str(tmp_path / "refused")]) == 2
    err = capsys.readouterr().err
    assert "checksum" in err and "trained with" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "refused").exists()
