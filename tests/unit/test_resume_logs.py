"""A resumed run keeps its history: the CSV metrics logged before the resume step, and the run.json
of the command that started it (Lightning's CSVLogger deletes an existing metrics.csv)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.demos.boring_classes import BoringModel

from jen_composer.core.checkpoints import checkpoint_step
from jen_composer.core.config import compose
from jen_composer.core.config.runinfo import write_run_files
from jen_composer.training.loggers import build_logger


class LoggingModel(BoringModel):
    def training_step(self, batch, batch_idx):  # noqa: ANN001, ANN201
        out = super().training_step(batch, batch_idx)
        self.log("train/loss", out["loss"])
        return out


def _fit(folder: Path, max_steps: int, resume: Path | None) -> None:
    cfg = compose(None, ["logger.kind=csv"])
    step = checkpoint_step(resume) if resume else None
    trainer = pl.Trainer(max_steps=max_steps, log_every_n_steps=1, logger=build_logger(cfg, folder, step),
                         callbacks=[ModelCheckpoint(dirpath=folder / "ckpt", every_n_train_steps=6, save_top_k=-1)],
                         enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(LoggingModel(), ckpt_path=str(resume) if resume else None)


def _steps(folder: Path) -> list[int]:
    with (folder / "logs" / "metrics.csv").open(newline="") as f:
        return [int(r["step"]) for r in csv.DictReader(f) if r.get("train/loss")]


def test_a_resumed_run_keeps_the_metrics_logged_before_its_resume_step(tmp_path: Path) -> None:
    _fit(tmp_path, 10, None)  # "killed" at step 10; its last checkpoint is at step 6
    assert _steps(tmp_path) == list(range(10))
    ckpt = next((tmp_path / "ckpt").glob("*step=6*.ckpt"))
    assert checkpoint_step(ckpt) == 6
    _fit(tmp_path, 12, ckpt)
    assert _steps(tmp_path) == list(range(12))  # steps 0-5 kept, 6-11 logged again once, none twice


def test_a_fresh_logger_still_starts_a_new_file(tmp_path: Path) -> None:
    _fit(tmp_path, 4, None)
    _fit(tmp_path, 3, None)
    assert _steps(tmp_path) == [0, 1, 2]


def test_a_resumed_run_keeps_its_first_command_and_records_the_resume(tmp_path: Path) -> None:
    cfg = compose(None, ["trainer.max_steps=7"])
    first = write_run_files(cfg, tmp_path)
    again = write_run_files(compose(None, ["trainer.max_steps=7", "trainer.resume=last"]), tmp_path, resumed=True)
    saved = json.loads((tmp_path / "run.json").read_text())
    assert saved == again
    assert saved["created"] == first["created"] and saved["command"] == first["command"]
    assert len(saved["resumes"]) == 1 and set(saved["resumes"][0]) == {"command", "created", "git", "versions", "host"}
    write_run_files(cfg, tmp_path, resumed=True)
    assert len(json.loads((tmp_path / "run.json").read_text())["resumes"]) == 2
