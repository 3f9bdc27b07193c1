"""Shared fixtures: offline environment, the repository root, tiny configs in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def experiment_tree(tmp_path: Path) -> Path:
    """A throw-away project tree with configs/ and experiments/ for config-composition tests."""
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "trainer").mkdir(parents=True)
    (tmp_path / "experiments").mkdir()
    (tmp_path / "configs" / "data" / "small.yaml").write_text("sample_rate: 8000\nbatch_size: 3\n")
    (tmp_path / "configs" / "trainer" / "quick.yaml").write_text("max_steps: 7\noptimizer: {lr: 0.01}\n")
    (tmp_path / "experiments" / "exp.yaml").write_text(
        "defaults: [data/small, trainer/quick]\nname: exp\ntags: [a]\nseed: 3\ndata: {batch_size: 5}\n"
    )
    return tmp_path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests cleanly when CUDA is absent (they are deselected by default anyway)."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
