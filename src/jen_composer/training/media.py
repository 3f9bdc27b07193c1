"""Logger-agnostic media logging: W&B Audio/Image, TensorBoard audio/image, or files in the run folder.

Never needs W&B: the wandb import happens only when a WandbLogger is attached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from lightning.pytorch.loggers import Logger, TensorBoardLogger, WandbLogger
from PIL import Image

from jen_composer.data.audio import fit_peak


def _loggers(target: Any) -> list[Logger]:
    if isinstance(target, Logger):
        return [target]
    return list(getattr(target, "loggers", []) or [])


def _media_dir(target: Any) -> Path:
    root = getattr(target, "default_root_dir", None) or getattr(target, "log_dir", None) or getattr(target, "save_dir", None)
    return Path(root or ".") / "media"


def _safe(key: str) -> str:
    return key.replace("/", "_").replace(" ", "_")


def _samples_first(wave: torch.Tensor | np.ndarray) -> np.ndarray:
    """[C, S] -> float32 [S, C] (the layout soundfile and the loggers take); [S] stays [S]."""
    arr = wave.detach().float().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave, np.float32)
    return arr.T if arr.ndim == 2 else arr


def log_audio(target: Any, key: str, wave: torch.Tensor | np.ndarray, sample_rate: int, step: int) -> list[str]:
    """Log one clip ([C, S] or [S]) to every attached logger; returns where it went."""
    data, _ = fit_peak(_samples_first(wave))  # loggers store 16-bit audio: scale a loud clip, never clip it
    sent = []
    for logger in _loggers(target):
        if isinstance(logger, WandbLogger):
            import wandb

            logger.experiment.log({key: wandb.Audio(data, sample_rate=sample_rate), "trainer/global_step": step})
            sent.append("wandb")
        elif isinstance(logger, TensorBoardLogger):
            mono = data.mean(axis=1) if data.ndim == 2 else data
            logger.experiment.add_audio(key, torch.from_numpy(mono)[None], step, sample_rate=sample_rate)
            sent.append("tensorboard")
    if not sent:
        path = _media_dir(target) / f"{_safe(key)}_step{step:07d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, data, sample_rate)
        sent.append(str(path))
    return sent


def log_image(target: Any, key: str, image: np.ndarray, step: int) -> list[str]:
    """Log an RGB uint8 image [H, W, 3] to every attached logger (or a PNG in the run folder)."""
    sent = []
    for logger in _loggers(target):
        if isinstance(logger, WandbLogger):
            import wandb

            logger.experiment.log({key: wandb.Image(image), "trainer/global_step": step})
            sent.append("wandb")
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, image, step, dataformats="HWC")
            sent.append("tensorboard")
    if not sent:
        path = _media_dir(target) / f"{_safe(key)}_step{step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
        sent.append(str(path))
    return sent
