"""The root of every resolved config. Each group's defaults live once, in its own module."""

from __future__ import annotations

from dataclasses import dataclass, field

from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.config.composer import ComposerConfig
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.config.data import DataConfig
from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.config.options import RunTask
from jen_composer.core.config.training import CurriculumConfig, LoggerConfig, TrainerConfig

# Keys that change what a run logs, evaluates or is called, not the weights it trains: excluded from
# the run id (so the `+interactive` ablation row reuses the `+curriculum` row's training).
LOGGING_ONLY_KEYS: frozenset[str] = frozenset(
    {"name", "tags", "notes", "logger", "output_root", "evaluation", "composition"}
)


@dataclass
class RunConfig:
    name: str = "unnamed"
    task: RunTask = RunTask.composer  # what `fit` trains
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    seed: int = 0
    output_root: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    composer: ComposerConfig = field(default_factory=ComposerConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    composition: CompositionConfig = field(default_factory=CompositionConfig)
