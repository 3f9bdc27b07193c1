"""`fit(cfg)`: build the module `cfg.task` names, the data module and a Trainer, then train.

Everything a run writes lands in its run folder (`runs/<name>/<run id>/`): config.yaml, run.json,
checkpoints/ (best + last, atomic, config embedded) and the logger's files.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback, LearningRateMonitor
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig

from jen_composer.core.checkpoints import checkpoint_step
from jen_composer.core.config import run_dir, write_run_files
from jen_composer.core.config.options import RunTask, choices
from jen_composer.core.errors import ConfigError
from jen_composer.training.checkpoint_io import AtomicCheckpointIO, EmbedRunInfo
from jen_composer.training.checkpointing import build_checkpoint_callbacks
from jen_composer.training.loggers import build_logger
from jen_composer.training.progress import ModelSummaryLine, StepProgressBar

TASKS = choices(RunTask)


@dataclass
class FitResult:
    run_dir: Path
    last_checkpoint: Path | None
    best_checkpoint: Path | None
    trainer: pl.Trainer
    module: pl.LightningModule


def build_module(cfg: DictConfig) -> tuple[pl.LightningModule, list[Callback]]:
    """The LightningModule for `cfg.task` and the task's own callbacks."""
    if cfg.task == "autoencoder":
        from jen_composer.training.autoencoder_module import build_autoencoder_task

        return build_autoencoder_task(cfg), []
    if cfg.task == "composer":
        from jen_composer.training.composer_module import build_composer_task

        return build_composer_task(cfg)
    raise ConfigError(f"task: unknown task '{cfg.task}'; choose one of {', '.join(TASKS)}")


def build_datamodule(cfg: DictConfig) -> pl.LightningDataModule:
    """The data module; a composer trained on cached latents refuses a cache from another autoencoder now."""
    from jen_composer.core.tracks import has_mix_track
    from jen_composer.data import MultiTrackDataModule
    from jen_composer.data.latent_cache import LatentCache

    checksum = None
    if cfg.task == "composer" and cfg.data.source == "latents" and cfg.composer.autoencoder:
        from jen_composer.models.autoencoder import load_autoencoder

        checksum = str(load_autoencoder(cfg.composer.autoencoder).checksum())
        LatentCache(cfg.data.latent_cache).check_encoder(checksum)
    with_mix = cfg.task == "composer" and has_mix_track(cfg)
    return MultiTrackDataModule(cfg.data, seed=int(cfg.seed), encoder_checksum=checksum, with_mix=with_mix)


def resolve_resume(cfg: DictConfig, folder: Path) -> Path | None:
    """`trainer.resume`: "" (fresh), "last" (this run folder's last.ckpt; an error if none) or a path."""
    resume = str(cfg.trainer.resume)
    if not resume:
        return None
    if resume == "last":
        last = folder / "checkpoints" / "last.ckpt"
        if not last.is_file():
            raise ConfigError(f"trainer.resume=last: nothing to resume, {last} does not exist "
                              "(run the same command without trainer.resume=last to start this run)")
        return last
    if not Path(resume).is_file():
        raise ConfigError(f"trainer.resume: checkpoint '{resume}' not found")
    return Path(resume)


@rank_zero_only
def _announce_resume(path: Path) -> None:
    target = f" -> {path.resolve().name}" if path.is_symlink() else ""
    print(f"resuming from {path}{target}", file=sys.stderr, flush=True)


def build_trainer(cfg: DictConfig, folder: Path, callbacks: list[Callback], manual_optimisation: bool,
                  resume_step: int | None = None) -> pl.Trainer:
    """``resume_step``: the global step of the checkpoint this run resumes from (the CSV log keeps
    the rows logged before it)."""
    t = cfg.trainer
    best, periodic = build_checkpoint_callbacks(cfg, folder)
    bars: list[Callback] = [ModelSummaryLine(f"train {cfg.name}")]
    bars += [StepProgressBar(f"train {cfg.name}")] if t.progress_bar else []
    logger = build_logger(cfg, folder, resume_step)
    lr: list[Callback] = [LearningRateMonitor(logging_interval="step")] if logger else []
    return pl.Trainer(
        default_root_dir=str(folder),
        max_steps=int(t.max_steps),
        accelerator=t.accelerator,
        devices=int(t.devices),
        num_nodes=int(t.num_nodes),
        strategy=t.strategy,
        precision=t.precision,
        gradient_clip_val=None if manual_optimisation else float(t.gradient_clip_val) or None,
        accumulate_grad_batches=int(t.accumulate_grad_batches),
        val_check_interval=max(1, min(int(t.val_check_interval), int(t.max_steps))),
        check_val_every_n_epoch=None,
        log_every_n_steps=int(t.log_every_n_steps),
        fast_dev_run=bool(t.fast_dev_run),
        logger=logger,
        deterministic=bool(t.deterministic),
        callbacks=[best, periodic, EmbedRunInfo(cfg), *lr, *bars, *callbacks],
        enable_progress_bar=False,  # StepProgressBar instead: steps of max_steps, not batches of an epoch
        enable_model_summary=False,  # StepProgressBar's first line instead (Lightning's table adds FLOPs 0)
        plugins=[AtomicCheckpointIO()],
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # the data module shards per rank and resumes mid-epoch itself
    )


@contextlib.contextmanager
def run_folder_removed_on_failure(folder: Path) -> Iterator[None]:
    """A run that fails before its first checkpoint leaves no run folder behind (only one it created)."""
    created = [p for p in (folder, folder.parent) if not p.exists()]  # the run folder and its <name> folder
    try:
        yield
    except BaseException:
        if folder in created and folder.is_dir() and not any(folder.rglob("*.ckpt")):
            shutil.rmtree(folder, ignore_errors=True)
            if folder.parent in created and not any(folder.parent.iterdir()):
                folder.parent.rmdir()
        raise


def check_accelerator(cfg: DictConfig, source: str = "") -> None:
    """A GPU recipe on a machine without one: one line before anything runs, not Lightning's traceback."""
    import torch

    accelerator = str(cfg.trainer.accelerator).lower()
    mps = accelerator == "gpu" and torch.backends.mps.is_available()  # Lightning's "gpu" is CUDA or Apple's MPS
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available() and not mps:
        where = f"{source}: " if source else ""
        raise ConfigError(f"{where}trainer.accelerator is '{accelerator}' but this machine has no CUDA device; "
                          "override it with trainer.accelerator=cpu (slower) or run it on a GPU machine")


def fit(cfg: DictConfig, extra_callbacks: list[Callback] | None = None) -> FitResult:
    """Train what `cfg` describes; returns where the run and its checkpoints are.

    `extra_callbacks` lets library users (and tests) observe a run without a config entry.
    """
    check_accelerator(cfg)
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    folder = run_dir(cfg)
    resume = resolve_resume(cfg, folder)
    if resume is not None:
        _announce_resume(resume)
    if resume is None and list((folder / "checkpoints").glob("*.ckpt")):
        raise ConfigError(
            f"{folder} already holds checkpoints of this exact config: continue it with trainer.resume=last, "
            "or start another run (change seed, name or any setting)"
        )
    with run_folder_removed_on_failure(folder):
        module, callbacks = build_module(cfg)
        datamodule = build_datamodule(cfg)
        write_run_files(cfg, folder, resumed=resume is not None)  # only once the model and data are known to load
        trainer = build_trainer(cfg, folder, [*callbacks, *(extra_callbacks or [])],
                                manual_optimisation=not module.automatic_optimization,
                                resume_step=checkpoint_step(resume) if resume else None)
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume) if resume else None)
    best, periodic = trainer.checkpoint_callbacks[:2]
    last = Path(periodic.last_model_path) if periodic.last_model_path else None
    best_path = Path(best.best_model_path) if best.best_model_path else None
    return FitResult(folder, last, best_path, trainer, module)
