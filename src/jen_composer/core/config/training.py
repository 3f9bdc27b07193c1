"""Trainer, curriculum and logger config groups (`configs/trainer/`, `curriculum/`, `logger/`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jen_composer.core.config.options import CurriculumSchedule, LoggerKind, LrScheduler


def _betas() -> list[float]:
    return [0.9, 0.95]


def _cfg_scales() -> list[float]:
    return [1.0, 3.0]


@dataclass
class OptimizerConfig:
    lr: float = 3e-5  # paper
    betas: list[float] = field(default_factory=_betas)  # paper (0.9, 0.95)
    weight_decay: float = 0.1  # paper
    scheduler: LrScheduler = LrScheduler.linear  # linear: decay to 0 at max_steps (paper)
    warmup_steps: int = 0


@dataclass
class TrainerConfig:
    max_steps: int = 1000
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"  # auto | ddp
    precision: str = "32-true"  # 32-true | bf16-mixed
    gradient_clip_val: float = 0.7  # paper
    accumulate_grad_batches: int = 1
    val_check_interval: int = 200
    log_every_n_steps: int = 10
    checkpoint_every_n_steps: int = 200
    ema_decay: float = 0.999
    fast_dev_run: bool = False
    deterministic: bool = False  # Trainer(deterministic=...): deterministic kernels (exact resume on GPU)
    progress_bar: bool = True
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    resume: str = ""  # checkpoint path, or "last" for the run folder's last.ckpt


@dataclass
class CurriculumConfig:
    """The training-task distribution (see training.curriculum and docs/training.md)."""

    schedule: CurriculumSchedule = CurriculumSchedule.progressive  # section 4.3 stage weights over time
    ramp_steps: int = 1000  # steps over which harder stages gain weight
    min_probability: float = 0.05  # easier stages keep at least this share
    paper_mix: float = 0.5  # share of samples drawn from section 5.1's tasks; the rest from the stage draw
    # with composer.mix_track only: shares of the tasks that start from the given mix (the rest: mix absent)
    separation: float = 0.1  # all stems generated from the mix
    extraction: float = 0.1  # one stem generated from the mix, the other stems absent
    arrangement: float = 0.1  # 1..k-1 stems kept (uniform count) + the mix given, the rest generated
    # with composer.frame_timesteps only: share of samples in which a contiguous span of generated
    # frames is regenerated and the rest of the track is known (t=0 frames, no loss): inpainting/continuation
    frame_mask_share: float = 0.3


@dataclass
class PreviewConfig:
    every_n_steps: int = 500
    prompts: list[str] = field(default_factory=lambda: ["upbeat pop with bright piano"])
    cfg_scales: list[float] = field(default_factory=_cfg_scales)
    seed: int = 1234
    steps: int = 20


@dataclass
class LoggerConfig:
    kind: LoggerKind = LoggerKind.csv
    project: str = "jen-composer"
    entity: str = ""
    group: str = ""  # W&B run group (the ablation runner sets it to the manifest's title)
    job_type: str = ""  # W&B job type (the ablation runner sets it to the row's label)
    log_checkpoints: bool = False  # W&B checkpoint artifacts
    preview: PreviewConfig = field(default_factory=PreviewConfig)
