"""Section 4.3's curriculum: stage s = generate s of the k tracks given the other k - s.

`stage_probabilities` is a pure function of the global step, so every DDP rank computes the same
probabilities and a resumed run continues exactly where it stopped. `progressive` moves a Gaussian
bump over stages from 1 to k during `ramp_steps` (harder stages gain weight) while every stage keeps
at least `min_probability` (easier ones are never forgotten); `uniform` weighs all stages equally;
`joint_only` always generates all k tracks (the ablation baseline).
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
import torch
from omegaconf import DictConfig

from jen_composer.core.errors import ConfigError

SCHEDULES = ("progressive", "uniform", "joint_only")
BUMP_WIDTH = 0.75  # in stages: how many neighbouring stages share the weight at any moment


def stage_probabilities(schedule: str, step: int, k: int, ramp_steps: int, min_probability: float) -> list[float]:
    """Probabilities of stages 1..k at ``step`` (a list of k floats summing to 1)."""
    if schedule == "uniform":
        return [1.0 / k] * k
    if schedule == "joint_only":
        return [0.0] * (k - 1) + [1.0]
    if schedule != "progressive":
        raise ConfigError(f"curriculum.schedule: unknown schedule '{schedule}'; choose one of {', '.join(SCHEDULES)}")
    if not 0.0 <= min_probability * k <= 1.0:
        raise ConfigError(f"curriculum.min_probability: {min_probability} x {k} stages must be within [0, 1]")
    progress = min(1.0, max(0.0, step / max(1, ramp_steps)))
    centre = 1.0 + (k - 1) * progress
    logits = [-((s - centre) ** 2) / (2 * BUMP_WIDTH**2) for s in range(1, k + 1)]
    top = max(logits)
    weights = [math.exp(v - top) for v in logits]
    total = sum(weights)
    free = 1.0 - k * min_probability
    return [min_probability + free * w / total for w in weights]


def sample_stages(probs: list[float], batch: int, generator: torch.Generator) -> torch.Tensor:
    """Number of tracks to generate per sample, [batch] long in 1..k."""
    return torch.multinomial(torch.tensor(probs), batch, replacement=True, generator=generator) + 1


class CurriculumCallback(pl.Callback):
    """Publishes the current stage probabilities to the module and logs them every step."""

    def __init__(self, cfg: DictConfig, num_tracks: int) -> None:
        self.schedule = str(cfg.schedule)
        self.ramp_steps = int(cfg.ramp_steps)
        self.min_probability = float(cfg.min_probability)
        self.k = num_tracks
        stage_probabilities(self.schedule, 0, self.k, self.ramp_steps, self.min_probability)  # validate early

    def probabilities(self, step: int) -> list[float]:
        return stage_probabilities(self.schedule, step, self.k, self.ramp_steps, self.min_probability)

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, batch_idx: int) -> None:
        probs = self.probabilities(trainer.global_step)
        pl_module.stage_probs = probs
        pl_module.log_dict(
            {f"curriculum/stage{s}": p for s, p in enumerate(probs, start=1)},
            on_step=True, on_epoch=False, batch_size=1, sync_dist=False,
        )

    def state_dict(self) -> dict:
        return {"schedule": self.schedule, "ramp_steps": self.ramp_steps, "min_probability": self.min_probability, "k": self.k}

    def load_state_dict(self, state_dict: dict) -> None:
        if state_dict.get("k") not in (None, self.k):
            raise ConfigError(f"curriculum: checkpoint was trained with {state_dict['k']} tracks, config has {self.k}")
