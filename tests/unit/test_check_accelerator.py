"""A GPU recipe on a machine without CUDA is one line naming the key, before a run folder exists."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from jen_composer.core.config import compose, run_dir
from jen_composer.core.errors import ConfigError
from jen_composer.training.fit import check_accelerator, fit

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_accelerator_without_cuda_is_refused_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cfg = compose(ROOT / "experiments/composer/tiny.yaml", ["trainer.accelerator=gpu", f"output_root={tmp_path}"])
    with pytest.raises(ConfigError, match=r"^recipe.yaml: trainer.accelerator is 'gpu' but this machine has no CUDA device"):
        check_accelerator(cfg, "recipe.yaml")
    with pytest.raises(ConfigError, match="trainer.accelerator=cpu"):
        fit(cfg)
    assert not run_dir(cfg).exists()
    for fine in ("cpu", "auto"):
        check_accelerator(compose(ROOT / "experiments/composer/tiny.yaml", [f"trainer.accelerator={fine}"]))
