"""`scripts/phase_diagnosis.py`, the command behind the decoding table of docs/results/autoencoder_bench.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.models.autoencoder import WaveformVAE, export_autoencoder

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "phase_diagnosis.py"


def export(tmp_path: Path, **kw: object) -> Path:
    base = dict(architecture="spectral", spectral_phase="predicted", latent_dim=4, base_channels=4, strides=[4, 4],
                channel_mults=[1, 2], dilations=[1], kernel_size=3, sample_rate=16000)
    base.update(kw)
    torch.manual_seed(0)
    return export_autoencoder(WaveformVAE(AutoencoderConfig(**base)), tmp_path / str(base["spectral_phase"]))  # type: ignore[arg-type]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_every_decoding_gets_a_row_and_the_original_scores_as_the_roundtrip_does(tiny_songs: Path, tmp_path: Path) -> None:
    from jen_composer.workflows.roundtrip import roundtrip_fit

    model = export(tmp_path)
    done = run("--autoencoder", str(model), "--data", str(tiny_songs), "--split", "train", "--clips", "2",
               "--seconds", "2", "--iters", "2")
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]  # other output may come first
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in table[2:]}
    assert list(rows) == ["original", "predicted magnitudes, the input's phase", "true magnitudes, Griffin-Lim 2",
                          "integrated advances, no Griffin-Lim", "integrated advances, Griffin-Lim 2",
                          "locked phases, no Griffin-Lim", "locked phases, Griffin-Lim 2"]
    from jen_composer.models.autoencoder import load_autoencoder

    reference = roundtrip_fit(load_autoencoder(model), tiny_songs, split="train", clips=2, seconds=2.0, log=lambda _: None)
    assert float(rows["original"]) == round(reference["scores"]["harmonic_fit"]["original"], 3)


def test_a_model_without_the_phase_head_is_refused_in_one_line(tiny_songs: Path, tmp_path: Path) -> None:
    done = run("--autoencoder", str(export(tmp_path, spectral_phase="griffin_lim")), "--data", str(tiny_songs))
    assert done.returncode != 0 and "phase head" in done.stderr and "Traceback" not in done.stderr
