"""Evaluation against baselines, media logging without W&B, experiment recipes, benchmark rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from jen_composer.core.config import compose
from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.data.spectrogram import spectrogram_figure
from jen_composer.models.autoencoder import WaveformVAE
from jen_composer.models.autoencoder.evaluate import evaluate_reconstruction
from jen_composer.training.media import log_audio, log_image


def test_evaluation_reports_model_and_baselines() -> None:
    torch.manual_seed(0)
    model = WaveformVAE(AutoencoderConfig(latent_dim=4, base_channels=4, strides=[2, 2], channel_mults=[1, 2], dilations=[1]))
    t = torch.arange(4000) / 16000
    tone = 0.5 * torch.sin(2 * torch.pi * 220 * t)  # well below the 2 kHz low-pass: it passes
    audio = tone.expand(2, 4, 1, 4000).clone()
    audio[:, 2] = 0.0  # silent tracks are not scored
    result = evaluate_reconstruction(model, [{"audio": audio}], fft_sizes=[512, 256])
    assert result["count"]["tracks"] == 6
    assert result["lowpass"]["si_sdr"] > 10 > result["silence"]["si_sdr"]
    assert result["lowpass"]["mrstft"] < result["silence"]["mrstft"]
    assert set(result["model"]) == {"si_sdr", "mrstft", "mel_l1"}
    assert all(np.isfinite(v) for v in result["model"].values())


def test_media_goes_to_files_without_a_logger(tmp_path: Path) -> None:
    class FakeTrainer:
        loggers: list = []
        default_root_dir = str(tmp_path)

    wave = 0.1 * torch.randn(2, 800)
    [wav] = log_audio(FakeTrainer(), "val/audio", wave, 8000, step=3)
    data, sr = sf.read(wav)
    assert sr == 8000 and data.shape == (800, 2)
    image = spectrogram_figure({"target": wave, "reconstruction": wave}, 8000)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    [png] = log_image(FakeTrainer(), "val/spec", image, step=3)
    assert Path(png).is_file() and Path(png).name == "val_spec_step0000003.png"


def test_media_goes_to_tensorboard(tmp_path: Path) -> None:
    from lightning.pytorch.loggers import TensorBoardLogger

    logger = TensorBoardLogger(str(tmp_path), name="tb")
    assert log_audio(logger, "a", torch.zeros(1, 100), 8000, 1) == ["tensorboard"]
    assert log_image(logger, "i", np.zeros((4, 5, 3), np.uint8), 1) == ["tensorboard"]
    logger.experiment.flush()
    assert list((tmp_path / "tb").rglob("events.out.tfevents*"))


@pytest.mark.parametrize("name", ["tiny", "paper"])
def test_experiments_compose(repo_root: Path, name: str) -> None:
    cfg = compose(repo_root / "experiments" / "autoencoder" / f"{name}.yaml")
    assert cfg.task == "autoencoder"
    assert (cfg.data.sample_rate, cfg.data.channels) == (cfg.autoencoder.sample_rate, cfg.autoencoder.channels)
    if name == "paper":
        hop = 1
        for s in cfg.autoencoder.strides:
            hop *= s
        assert (hop, cfg.autoencoder.latent_dim, cfg.autoencoder.sample_rate, cfg.autoencoder.channels) == (320, 128, 48000, 2)
        assert cfg.trainer.precision == "bf16-mixed" and cfg.trainer.strategy == "ddp"


@pytest.mark.slow
def test_benchmark_rows() -> None:
    from benchmarks.autoencoder import run_benchmarks

    rows = run_benchmarks(quick=True)
    assert len(rows) == 4 and all(r.value > 0 and r.unit == "audio s/s" for r in rows)


def test_lag1_autocorrelation_known_answers() -> None:
    from jen_composer.models.autoencoder.quality import lag1_autocorrelation

    g = torch.Generator().manual_seed(0)
    white, rows = lag1_autocorrelation(torch.randn(4, 8, 2000, generator=g))
    assert rows == 32 and abs(white) < 0.05
    slow = torch.sin(torch.arange(2000) / 50.0).expand(2, 3, 2000)
    assert lag1_autocorrelation(slow)[0] > 0.99
    alternating = torch.tensor([1.0, -1.0]).repeat(500).expand(1, 2, 1000)
    assert lag1_autocorrelation(alternating)[0] < -0.99
    constant, rows = lag1_autocorrelation(torch.ones(1, 2, 10))  # nothing varies: nothing to measure
    assert rows == 0 and np.isnan(constant)


def test_evaluation_reports_how_smooth_the_latents_are() -> None:
    torch.manual_seed(0)
    model = WaveformVAE(AutoencoderConfig(latent_dim=4, base_channels=4, strides=[2, 2], channel_mults=[1, 2], dilations=[1]))
    audio = (0.5 * torch.sin(2 * torch.pi * 110 * torch.arange(4000) / 16000)).expand(1, 2, 1, 4000).clone()
    lag1 = evaluate_reconstruction(model, [{"audio": audio}], fft_sizes=[512, 256])["latent"]["lag1_autocorrelation"]
    assert -1.0 <= lag1 <= 1.0
