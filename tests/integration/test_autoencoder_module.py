"""AutoencoderModule: automatic and adversarial (manual) training steps, EMA, checkpoint -> export."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader

from jen_composer.core.config import compose
from jen_composer.core.errors import ConfigError
from jen_composer.models.autoencoder import export_from_checkpoint, load_autoencoder, model_from_checkpoint
from jen_composer.training.autoencoder_module import build_autoencoder_task

TINY = [
    "task=autoencoder", "data.sample_rate=8000", "autoencoder.sample_rate=8000", "autoencoder.latent_dim=4",
    "autoencoder.base_channels=4", "autoencoder.strides=[2,4]", "autoencoder.channel_mults=[1,2]",
    "autoencoder.dilations=[1]", "autoencoder.stft_fft_sizes=[256,128]", "autoencoder.mel_bins=16",
    "autoencoder.disc_fft_sizes=[128]", "autoencoder.disc_channels=4", "autoencoder.latent_stats_batches=2",
    "trainer.max_steps=4", "trainer.optimizer.lr=1e-3",
]


class FakeData(pl.LightningDataModule):
    """Data-layer-shaped batches: audio [B, k, C, S], one silent track per example."""

    def _loader(self) -> DataLoader:
        g = torch.Generator().manual_seed(0)
        audio = 0.3 * torch.randn(8, 4, 1, 800, generator=g)
        audio[:, 3] = 0.0
        items = [{"audio": a, "song_id": f"s{i}"} for i, a in enumerate(audio)]
        return DataLoader(items, batch_size=2)

    def train_dataloader(self) -> DataLoader:
        return self._loader()

    def val_dataloader(self) -> DataLoader:
        return self._loader()


def run(tmp_path: Path, *overrides: str, accelerator: str = "cpu") -> tuple[pl.Trainer, pl.LightningModule]:
    cfg = compose(None, [*TINY, *overrides])
    module = build_autoencoder_task(cfg)
    trainer = pl.Trainer(
        default_root_dir=str(tmp_path), max_steps=4, accelerator=accelerator, logger=False, enable_progress_bar=False,
        val_check_interval=4, limit_val_batches=1, num_sanity_val_steps=0, enable_model_summary=False,
        gradient_clip_val=0.7 if module.automatic_optimization else None,
    )
    trainer.fit(module, datamodule=FakeData())
    return trainer, module


def test_automatic_training_with_ema_checkpoint_export(tmp_path: Path) -> None:
    trainer, module = run(tmp_path, "trainer.ema_decay=0.9", "autoencoder.train_crop_seconds=0.05")
    assert module.automatic_optimization and module.ema is not None
    assert trainer.global_step == 4
    metrics = trainer.callback_metrics
    for key in ("train/loss", "train/stft", "train/kl", "val/si_sdr", "val/mrstft", "val/mel_l1", "val/loss"):
        assert torch.isfinite(metrics[key]), key
    assert not torch.equal(module.model.latent_std, torch.ones(4))  # stats refreshed after validation
    media = sorted(p.name for p in (tmp_path / "media").iterdir())
    assert any(n.endswith(".wav") for n in media) and any(n.endswith(".png") for n in media)
    ckpt = tmp_path / "ae.ckpt"
    trainer.save_checkpoint(ckpt)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["jen_composer"]["config"]["autoencoder"]["latent_dim"] == 4
    rebuilt = model_from_checkpoint(ckpt)  # EMA weights by default
    assert rebuilt.checksum() == module.export_model.checksum()
    out = export_from_checkpoint(ckpt, tmp_path / "export")
    wave = torch.randn(1, 1, 333)
    with torch.no_grad():
        assert torch.equal(load_autoencoder(out).encode(wave), module.export_model.eval().encode(wave))
    assert load_autoencoder(ckpt).checksum() == rebuilt.checksum()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("architecture", ["waveform", "spectral"])
def test_validation_media_are_written_from_a_gpu_run(tmp_path: Path, architecture: str) -> None:
    """Validation plots and audio accept GPU tensors (a GPU run once died in its first validation)."""
    trainer, _ = run(tmp_path, f"autoencoder.architecture={architecture}", "autoencoder.train_crop_seconds=0.05",
                     accelerator="cuda")
    assert trainer.global_step == 4 and torch.isfinite(trainer.callback_metrics["val/loss"])
    media = sorted(p.name for p in (tmp_path / "media").iterdir())
    assert any(n.endswith(".png") for n in media)


def test_adversarial_uses_manual_optimisation_and_counts_generator_steps(tmp_path: Path) -> None:
    trainer, module = run(tmp_path, "autoencoder.adversarial=true", "autoencoder.adversarial_start_step=2")
    assert not module.automatic_optimization
    assert trainer.global_step == 4  # the discriminator's steps do not count
    for key in ("train/adv", "train/feature_matching", "train/disc"):
        assert torch.isfinite(trainer.callback_metrics[key]), key


def test_mismatched_data_and_model_rates_fail() -> None:
    with pytest.raises(ConfigError, match="data.sample_rate"):
        build_autoencoder_task(compose(None, [*TINY, "data.sample_rate=16000"]))


def test_unknown_scheduler_fails_at_build() -> None:
    with pytest.raises(ConfigError, match="trainer.optimizer.scheduler"):
        build_autoencoder_task(compose(None, [*TINY, "trainer.optimizer.scheduler=step"]))
