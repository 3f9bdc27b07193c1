"""`ClapScoreCallback`: every N validation runs, CLAP score per track and for the mix.

Each rank generates joint samples for its share of the fixed prompt set (EMA weights, fixed seeds),
decodes them and updates a `MultiTrackClapScore`; the torchmetrics state is summed across ranks on
`compute()`, so every rank logs the same numbers. The offline default scorer is a random-weight
CLAP (plumbing only); configure `evaluation.clap` for real weights (docs/evaluation.md).
"""

from __future__ import annotations

import logging
from typing import Any

import lightning.pytorch as pl
import torch
from omegaconf import DictConfig

from jen_composer.diffusion.generate import generate
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.metrics.clap import require_clap_scorer
from jen_composer.metrics.clap_score import MultiTrackClapScore

log = logging.getLogger(__name__)


class ClapScoreCallback(pl.Callback):
    def __init__(self, cfg: DictConfig) -> None:
        self.cfg = cfg
        self.every = int(cfg.evaluation.every_n_val_epochs)
        self._validations = 0
        self._metric: MultiTrackClapScore | None = None
        self._decoder: Any = None
        self.last: dict[str, float] = {}
        self._device = torch.device("cpu")

    def _setup(self, tracks: list[str]) -> MultiTrackClapScore:
        if self._metric is None:
            from jen_composer.models.autoencoder import load_autoencoder

            self._decoder = load_autoencoder(self.cfg.composer.autoencoder).eval()
            scorer = require_clap_scorer(self.cfg.evaluation.clap, "the CLAP score callback")
            self._metric = MultiTrackClapScore(scorer, tracks, int(self.cfg.data.sample_rate))
        self._metric.to(self._device)
        return self._metric

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.fast_dev_run:
            return
        self._validations += 1
        if self.every <= 0 or self._validations % self.every:
            return
        if not self.cfg.composer.autoencoder:
            log.warning("ClapScoreCallback: composer.autoencoder is empty, nothing to decode; CLAP skipped")
            return
        self.last = self.score(trainer, pl_module)
        pl_module.log_dict({f"clap/{k}": v for k, v in self.last.items()}, sync_dist=False, rank_zero_only=False)

    @torch.no_grad()
    def score(self, trainer: pl.Trainer, module: pl.LightningModule) -> dict[str, float]:
        tracks = list(module.tracks)
        self._device = module.device
        metric = self._setup(tracks)
        metric.reset()
        prompts = list(self.cfg.evaluation.prompts)
        mine = list(range(trainer.global_rank, len(prompts), trainer.world_size))
        frames = int(round(float(self.cfg.data.snippet_seconds) * self.cfg.data.sample_rate / self._decoder.hop))
        settings = SamplerSettings.from_config(self.cfg.composer.sampler)
        for i in mine:
            request = GenerationRequest([prompts[i]], ["generate"] * len(tracks) + ["absent"] * module.extra, settings,
                                        seed=int(self.cfg.seed) + i, length=frames)
            latents = generate(module.eval_model(), module.schedule, request, module.model_tracks)[0][:len(tracks)]
            stems = self._decoder.decode(latents.cpu().float())  # [k, C, S]
            metric.update(stems[None], [prompts[i]])
        return {k: float(v) for k, v in metric.compute().items()}
