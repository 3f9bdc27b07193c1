"""The thin LightningModule that trains the waveform VAE (`cfg.task == "autoencoder"`).

Each track of a data-layer batch (`audio` [B, k, C, S]) is one example; all-silent tracks are
skipped. With `autoencoder.adversarial` the module uses manual optimisation (generator, then a
multi-scale STFT discriminator once `adversarial_start_step` is reached); otherwise Lightning's
automatic optimisation (and its gradient clipping) applies.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
from omegaconf import DictConfig

from jen_composer.core.checkpoints import embedded_info
from jen_composer.core.config import to_container
from jen_composer.core.errors import ConfigError
from jen_composer.data.spectrogram import spectrogram_figure
from jen_composer.models.autoencoder.chunking import pad_to_multiple
from jen_composer.models.autoencoder.discriminator import (
    MultiScaleSTFTDiscriminator,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
)
from jen_composer.models.autoencoder.losses import ReconstructionLoss
from jen_composer.models.autoencoder.model import WaveformVAE
from jen_composer.models.autoencoder.quality import ReconstructionMetrics
from jen_composer.models.autoencoder.stats import compute_latent_stats, flatten_tracks, non_silent
from jen_composer.training.ema import EMA
from jen_composer.training.media import log_audio, log_image
from jen_composer.training.optim import build_optimizer_and_scheduler, check_scheduler


class AutoencoderModule(pl.LightningModule):
    def __init__(self, cfg: DictConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ae, data = cfg.autoencoder, cfg.data
        if ae.kind != "vae":
            raise ConfigError(f"autoencoder.kind: only 'vae' is trainable, got '{ae.kind}'")
        if (data.sample_rate, data.channels) != (ae.sample_rate, ae.channels):
            raise ConfigError(
                f"autoencoder: sample_rate/channels {ae.sample_rate}/{ae.channels} differ from "
                f"data.sample_rate/data.channels {data.sample_rate}/{data.channels}"
            )
        check_scheduler(str(cfg.trainer.optimizer.scheduler))  # fail early on an unknown scheduler
        self.model = WaveformVAE(ae)
        self.loss = ReconstructionLoss(self.model.cfg)
        self.metrics = ReconstructionMetrics(ae.sample_rate, ae.mel_bins, list(ae.stft_fft_sizes))
        self.discriminator = (
            MultiScaleSTFTDiscriminator(ae.channels, list(ae.disc_fft_sizes), ae.disc_channels) if ae.adversarial else None
        )
        self.automatic_optimization = not ae.adversarial
        self.ema = EMA(self.model, cfg.trainer.ema_decay) if cfg.trainer.ema_decay > 0 else None

    # -- helpers --------------------------------------------------------------------------------
    @property
    def export_model(self) -> WaveformVAE:
        """The weights to evaluate and export: the EMA shadow when EMA is on."""
        return self.ema.shadow if self.ema is not None else self.model  # type: ignore[return-value]

    def _examples(self, batch: Any, crop: bool) -> torch.Tensor:
        waves = non_silent(flatten_tracks(batch))
        seconds = float(self.cfg.autoencoder.train_crop_seconds)
        if crop and seconds > 0 and waves.shape[0] > 0:
            size = min(waves.shape[-1], max(self.model.hop, round(seconds * self.model.sample_rate)))
            start = int(torch.randint(0, waves.shape[-1] - size + 1, ()).item())
            waves = non_silent(waves[..., start : start + size])
        return waves

    def _log_terms(self, terms: dict[str, torch.Tensor], batch_size: int) -> None:
        for name, value in terms.items():
            self.log(f"train/{name}", value.detach(), prog_bar=name == "loss", batch_size=batch_size)

    # -- training -------------------------------------------------------------------------------
    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor | None:
        waves = self._examples(batch, crop=True)
        if waves.shape[0] == 0:
            return None
        if self.automatic_optimization:
            recon, regularisers = self.model(waves)
            terms = self.loss(recon, waves, regularisers)
            self._log_terms(terms, waves.shape[0])
            return terms["loss"]
        self._adversarial_step(waves)
        return None

    def _adversarial_step(self, waves: torch.Tensor) -> None:
        ae, clip = self.cfg.autoencoder, float(self.cfg.trainer.gradient_clip_val) or None
        opt_g, opt_d = self.optimizers()
        sched_g, sched_d = self.lr_schedulers()
        recon, regularisers = self.model(waves)
        terms = self.loss(recon, waves, regularisers)
        loss_g = terms["loss"]
        if self.global_step >= ae.adversarial_start_step:
            assert self.discriminator is not None
            # discriminator: real vs detached reconstructions (its optimiser is stepped raw, so
            # Lightning's global_step counts generator steps only)
            d_loss = discriminator_loss(self.discriminator(waves), self.discriminator(recon.detach()))
            opt_d.zero_grad()
            self.manual_backward(d_loss)
            if clip:
                torch.nn.utils.clip_grad_norm_(self.discriminator.parameters(), clip)
            opt_d.optimizer.step()
            sched_d.step()
            real, fake = self.discriminator(waves), self.discriminator(recon)
            terms["adv"] = ae.adversarial_weight * generator_adversarial_loss(fake)
            terms["feature_matching"] = ae.feature_matching_weight * feature_matching_loss(real, fake)
            terms["disc"] = d_loss.detach()
            loss_g = loss_g + terms["adv"] + terms["feature_matching"]
            terms["loss"] = loss_g
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        if clip:
            self.clip_gradients(opt_g, gradient_clip_val=clip, gradient_clip_algorithm="norm")
        opt_g.step()
        sched_g.step()
        self._update_ema()
        self._log_terms(terms, waves.shape[0])

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        """Automatic optimisation: update the EMA before any callback (e.g. a checkpoint) sees the step."""
        super().optimizer_step(*args, **kwargs)
        self._update_ema()

    def _update_ema(self) -> None:
        if self.ema is not None:
            self.ema.update(self.model)

    def configure_optimizers(self) -> Any:
        generator = build_optimizer_and_scheduler(self.model.parameters(), self.cfg.trainer)
        if self.discriminator is None:
            return generator
        return [generator, build_optimizer_and_scheduler(self.discriminator.parameters(), self.cfg.trainer)]

    # -- validation -----------------------------------------------------------------------------
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        waves = self._examples(batch, crop=False)
        if waves.shape[0] == 0:
            return
        model = self.export_model
        recon = model.decode_raw(model.encode_raw(pad_to_multiple(waves, model.hop)))[..., : waves.shape[-1]]
        values = self.metrics(recon, waves)
        for name, value in values.items():
            self.log(f"val/{name}", value, batch_size=waves.shape[0], sync_dist=True)
        self.log("val/loss", values["mrstft"], batch_size=waves.shape[0], sync_dist=True)
        if batch_idx == 0 and not self.trainer.sanity_checking and self.trainer.is_global_zero:
            self._log_media(waves[0], recon[0])

    def _log_media(self, target: torch.Tensor, recon: torch.Tensor) -> None:
        sr, step = self.model.sample_rate, self.global_step
        log_audio(self.trainer, "val/audio_target", target, sr, step)
        log_audio(self.trainer, "val/audio_reconstruction", recon, sr, step)
        image = spectrogram_figure({"target": target, "reconstruction": recon}, sr, title=f"step {step}")
        log_image(self.trainer, "val/spectrogram_target_vs_reconstruction", image, step)

    def on_validation_epoch_end(self) -> None:
        """Refresh the latent statistics from training data so every checkpoint carries current ones."""
        if self.trainer.sanity_checking or self.trainer.datamodule is None:
            return
        self.refresh_latent_stats(self.trainer.datamodule.train_dataloader())

    @torch.no_grad()
    def refresh_latent_stats(self, batches: Any) -> dict[str, torch.Tensor]:
        model = self.export_model
        batches_on_device = ({"audio": flatten_tracks(b).to(self.device)} for b in batches)
        stats = compute_latent_stats(model, batches_on_device, int(self.cfg.autoencoder.latent_stats_batches))
        self.model.latent_mean.copy_(stats["mean"])
        self.model.latent_std.copy_(stats["std"])
        return stats

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        embedded_info(checkpoint)["config"] = to_container(self.cfg)


def build_autoencoder_task(cfg: DictConfig) -> AutoencoderModule:
    """What `fit` calls for `cfg.task == "autoencoder"`."""
    return AutoencoderModule(cfg)
