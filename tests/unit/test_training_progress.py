"""One progress bar per run, counted in steps of max_steps (without a terminal: a line per tenth)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from jen_composer.training.progress import StepProgressBar


def test_counts_steps_towards_max_steps(capsys: pytest.CaptureFixture[str]) -> None:
    trainer = SimpleNamespace(max_steps=40, global_step=0, callback_metrics={})
    bar = StepProgressBar("train composer-tiny")
    bar.on_train_start(trainer, None)  # type: ignore[arg-type]
    for step in range(1, 41):
        trainer.global_step = step
        trainer.callback_metrics = {"train/loss": torch.tensor(1.0 / step)}
        bar.on_train_batch_end(trainer, None, None, None, step - 1)  # type: ignore[arg-type]
    bar.on_train_end(trainer, None)  # type: ignore[arg-type]
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"train composer-tiny: step {s}/40" for s in range(4, 41, 4)]
    assert lines[-1].endswith("train/loss 0.025") and not any("Epoch" in line for line in lines)


def test_opens_with_one_line_naming_the_model_and_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(100, 20), torch.nn.Linear(20, 3))  # 2020 + 63 parameters
    model[1].requires_grad_(False)
    module = SimpleNamespace(model=model)
    from jen_composer.training.progress import ModelSummaryLine

    ModelSummaryLine("train autoencoder-tiny").on_fit_start(None, module)  # type: ignore[arg-type]
    assert capsys.readouterr().out.splitlines()[0] == "train autoencoder-tiny: Sequential, 2.1 K parameters (2.0 K trained)"
