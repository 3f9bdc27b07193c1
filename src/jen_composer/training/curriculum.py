"""Section 4.3's curriculum as a schedule over training steps; the sampling itself is `diffusion.tasks`.

Stage s generates s of the k tracks, sharing one t, and keeps the other k - s clean; stage k is free
generation. `stage_probabilities` is a pure function of the global step, so every DDP rank computes
the same probabilities and a resumed run continues exactly where it stopped:

- `progressive` moves a Gaussian bump over stages from 1 to k during `ramp_steps` (harder stages
  gain weight) while every stage keeps at least `min_probability` (easier ones are never forgotten);
- `uniform` weighs all stages equally;
- `joint_only` is stage k only (with `paper_mix: 0`, the ablation baseline: every step generates all
  tracks with one shared t).

`task_mixture` blends the stage draw with section 5.1's tasks (share `curriculum.paper_mix`).
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
from omegaconf import DictConfig

from jen_composer.core.config.options import CurriculumSchedule, choices
from jen_composer.core.config.training import CurriculumConfig
from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.tasks import TaskMixture, TaskType, task_types

SCHEDULES = choices(CurriculumSchedule)
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


def task_mixture(cfg: CurriculumConfig | DictConfig, step: int, k: int, condition_only: int = 0) -> TaskMixture:
    """The training-task distribution at ``step`` for the ``curriculum`` config group; ``condition_only``
    extra tracks (1 with ``composer.mix_track``) get the separation / extraction / arrangement tasks."""
    probs = stage_probabilities(str(cfg.schedule), step, k, int(cfg.ramp_steps), float(cfg.min_probability))
    return TaskMixture(tuple(probs), float(cfg.paper_mix), condition_only, float(cfg.separation),
                       float(cfg.extraction), float(cfg.arrangement))


class CurriculumCallback(pl.Callback):
    """Publishes the step's `TaskMixture` to the module (``pl_module.tasks``) and logs its stage weights."""

    def __init__(self, cfg: CurriculumConfig | DictConfig, num_tracks: int, condition_only: int = 0) -> None:
        self.cfg = cfg
        self.k, self.condition_only = num_tracks, condition_only
        task_mixture(cfg, 0, num_tracks, condition_only)  # validate early

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, batch_idx: int) -> None:
        mixture = task_mixture(self.cfg, trainer.global_step, self.k, self.condition_only)
        pl_module.tasks = mixture
        logged = {f"curriculum/stage{s}": p for s, p in enumerate(mixture.stage_probs, start=1)}
        pl_module.log_dict({**logged, "curriculum/paper_mix": mixture.paper_mix},
                           on_step=True, on_epoch=False, batch_size=1, sync_dist=False)

    def state_dict(self) -> dict:
        return {"schedule": str(self.cfg.schedule), "k": self.k}

    def load_state_dict(self, state_dict: dict) -> None:
        if state_dict.get("k") not in (None, self.k):
            raise ConfigError(f"curriculum: checkpoint was trained with {state_dict['k']} tracks, config has {self.k}")


def share_table(cfg: DictConfig, steps: list[int] | None = None) -> tuple[list[int], dict[TaskType, list[float]]]:
    """Closed-form task-type shares of a run config at the start, middle and end of training (or ``steps``)."""
    steps = steps if steps is not None else [0, int(cfg.trainer.max_steps) // 2, int(cfg.trainer.max_steps)]
    k = len(cfg.data.tracks)
    extra = 1 if bool(cfg.composer.mix_track) else 0
    mixtures = [task_mixture(cfg.curriculum, step, k, extra).type_probabilities() for step in steps]
    return steps, {tt: [m[tt] for m in mixtures] for tt in task_types(k)}
