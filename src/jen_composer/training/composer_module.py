"""`ComposerModule`: the thin LightningModule around `ComposerModel` and the diffusion objective.

Per step: the curriculum's `TaskMixture` (section 4.3 stages blended with section 5.1) draws each
sample's timestep vector, task tokens prefix the prompt, CFG drops text, and the loss covers the
generated tracks only; the realised task shares are logged under ``tasks/``. Randomness comes from generators seeded
by (seed, global step, rank), so a resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig

from jen_composer.core.checkpoints import embedded_info
from jen_composer.core.errors import ConfigError
from jen_composer.core.seed import make_generator
from jen_composer.core.tracks import model_tracks
from jen_composer.diffusion.frame_tasks import (
    frame_mask_levels,
    realised_frame_shares,
    track_levels,
    validation_frame_tasks,
)
from jen_composer.diffusion.objective import diffusion_loss, sample_text_dropout
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.tasks import (
    TaskMixture,
    generated_mask,
    realised_shares,
    role_timesteps,
    task_prompts,
    validation_tasks,
)
from jen_composer.models.composer import ComposerModel, build_composer
from jen_composer.models.frozen import drop_frozen, fill_frozen, frozen_prefixes
from jen_composer.training.curriculum import CurriculumCallback, task_mixture
from jen_composer.training.ema import EMA
from jen_composer.training.optim import build_optimizer_and_scheduler
from jen_composer.training.rng import ResumeStateCallback

VAL_SEED_OFFSET = 10_000_019  # validation draws its own fixed tasks, independent of training


def latent_dim_of(cfg: DictConfig) -> int:
    """d: from the exported autoencoder the composer decodes with, else `autoencoder.latent_dim`."""
    if cfg.composer.autoencoder:
        from jen_composer.models.autoencoder import load_autoencoder

        return int(load_autoencoder(cfg.composer.autoencoder).latent_dim)
    return int(cfg.autoencoder.latent_dim)


class ComposerModule(pl.LightningModule):
    def __init__(self, cfg: DictConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tracks = list(cfg.data.tracks)
        self.k = len(self.tracks)
        self.model_tracks = model_tracks(cfg)  # the stems, then the mix when composer.mix_track
        self.extra = len(self.model_tracks) - self.k
        self.d = latent_dim_of(cfg)
        self.model: ComposerModel = build_composer(cfg.composer, self.k, self.d)
        self.schedule = NoiseSchedule.from_config(cfg.composer.diffusion)
        decay = float(cfg.trainer.ema_decay)
        self.ema = EMA(self.model, decay) if decay > 0 else None
        self.tasks: TaskMixture = task_mixture(cfg.curriculum, 0, self.k, self.extra)  # CurriculumCallback updates it per step
        self._autoencoder: list[Any] = []  # frozen, kept out of state_dict (source=audio only)
        # composer.frame_timesteps: a share of samples regenerates a span of frames (diffusion.frame_tasks)
        self.frame_mask_share = float(cfg.curriculum.frame_mask_share) if self.model.frame_timesteps else 0.0
        if not 0.0 <= self.frame_mask_share <= 1.0:
            raise ConfigError(f"curriculum.frame_mask_share: {self.frame_mask_share} is outside [0, 1]")

    # -- helpers -------------------------------------------------------------------------------
    def _generator(self, offset: int = 0) -> torch.Generator:
        seed = int(self.cfg.seed) * 1_000_003 + int(self.global_step) * 7_919 + int(self.global_rank) * 104_729 + offset
        return make_generator(seed % (2**63 - 1))

    def _latents(self, batch: dict[str, Any]) -> torch.Tensor:
        if "latents" in batch:
            x0 = batch["latents"]
        else:
            if not self._autoencoder:
                from jen_composer.models.autoencoder import load_autoencoder

                if not self.cfg.composer.autoencoder:
                    raise ConfigError("composer.autoencoder: training on audio needs an exported autoencoder")
                ae = load_autoencoder(self.cfg.composer.autoencoder).to(self.device).eval().requires_grad_(False)
                self._autoencoder.append(ae)
            audio = batch["audio"]
            b, k, c, s = audio.shape
            with torch.no_grad():
                x0 = self._autoencoder[0].encode(audio.reshape(b * k, c, s)).reshape(b, k, self.d, -1)
        k = len(self.model_tracks)
        if x0.dim() != 4 or x0.shape[1] != k or x0.shape[2] != self.d:
            raise ConfigError(
                f"data: batches have latents of shape {tuple(x0.shape)}, the composer expects [B, {k}, {self.d}, L] "
                f"for {self.model_tracks} (check data.tracks and that the latent cache was built with composer.autoencoder)"
            )
        return x0.float()

    def _loss(self, model: ComposerModel, x0: torch.Tensor, t: torch.Tensor, prompts: list[str],
              drop: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        generated = generated_mask(track_levels(t), self.schedule.T)
        prompts = task_prompts(prompts, generated, self.model_tracks, bool(self.cfg.composer.task_tokens))
        return diffusion_loss(model, self.schedule, x0, t.to(x0.device), prompts, drop, generator)

    # -- Lightning hooks -----------------------------------------------------------------------
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        x0 = self._latents(batch)
        b = x0.shape[0]
        g = self._generator()
        t = self.tasks.sample(b, self.schedule.T, g)
        drop = sample_text_dropout(b, float(self.cfg.composer.text_dropout), g)
        noise_gen = make_generator(int(torch.randint(2**62, (1,), generator=g)), x0.device)
        if self.model.frame_timesteps:  # drawn last: every other draw is what it is without the option
            t = frame_mask_levels(t, x0.shape[-1], self.frame_mask_share, self.schedule.T, g)
        loss = self._loss(self.model, x0, t, list(batch["prompt"]), drop, noise_gen)
        self.log("train/loss", loss, prog_bar=True, batch_size=b)
        shares = realised_shares(track_levels(t), self.schedule.T, self.k)
        if t.dim() == 3:
            shares.update(realised_frame_shares(t[:, :self.k], self.schedule.T))
        self.log("train/tracks_generated", shares["tasks/generated"], batch_size=b)
        self.log_dict(shares, on_step=True, on_epoch=True, batch_size=b)
        return loss

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        """Update the EMA right after the weights move, before any callback (e.g. a checkpoint) sees them."""
        super().optimizer_step(*args, **kwargs)
        if self.ema is not None:
            self.ema.update(self.model)

    def eval_model(self) -> ComposerModel:
        """EMA weights when enabled: used for validation, previews and sampling."""
        return self.ema.shadow if self.ema is not None else self.model

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        x0 = self._latents(batch)
        b = x0.shape[0]
        model = self.eval_model()
        losses = []
        for i, (name, generate, keep, given) in enumerate(validation_tasks(self.k, self.extra)):
            g = make_generator(VAL_SEED_OFFSET + 1_000 * batch_idx + i)
            t = role_timesteps(generate, keep, b, self.k, self.schedule.T, g)
            t = torch.cat([t, torch.full((b, self.extra), 0 if given else self.schedule.T, dtype=t.dtype)], dim=1)
            loss = self._loss(model, x0, t, list(batch["prompt"]), None, g)
            self.log(f"val/loss_{name}", loss, batch_size=b, sync_dist=True)
            losses.append(loss)
            if model.frame_timesteps and name == "joint":  # the same draw with known frames (not in val/loss)
                for frame_task, levels in validation_frame_tasks(t, x0.shape[-1], self.schedule.T):
                    noise = make_generator(VAL_SEED_OFFSET + 1_000 * batch_idx + i)
                    frame_loss = self._loss(model, x0, levels, list(batch["prompt"]), None, noise)
                    self.log(f"val/loss_{frame_task}", frame_loss, batch_size=b, sync_dist=True)
        self.log("val/loss", torch.stack(losses).mean(), prog_bar=True, batch_size=b, sync_dist=True)

    def configure_optimizers(self) -> Any:
        return build_optimizer_and_scheduler([p for p in self.model.parameters() if p.requires_grad], self.cfg.trainer)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        embedded_info(checkpoint)["composer"] = {"tracks": self.tracks, "latent_dim": self.d, "mix_track": bool(self.extra),
                                                  "frame_timesteps": self.model.frame_timesteps}
        # a frozen text encoder is loaded by name or path, never stored (nor twice, via the EMA)
        checkpoint["state_dict"] = drop_frozen(checkpoint["state_dict"], self._frozen_keys())

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        fill_frozen(checkpoint["state_dict"], self.state_dict(), self._frozen_keys())

    def _frozen_keys(self) -> tuple[str, ...]:
        return frozen_prefixes(self.model, "model.") + frozen_prefixes(self.model, "ema.shadow.")


def build_composer_task(cfg: DictConfig) -> tuple[ComposerModule, list[Callback]]:
    module = ComposerModule(cfg)
    callbacks: list[Callback] = [CurriculumCallback(cfg.curriculum, module.k, module.extra), ResumeStateCallback()]
    from jen_composer.training.preview import SamplePreviewCallback

    if int(cfg.logger.preview.every_n_steps) > 0:
        callbacks.append(SamplePreviewCallback(cfg))
    if int(cfg.evaluation.every_n_val_epochs) > 0 and cfg.evaluation.clap.backend != "none":
        from jen_composer.training.clap_callback import ClapScoreCallback

        callbacks.append(ClapScoreCallback(cfg))
    return module, callbacks

