"""The with/without-mix comparison of issue 15 is one setting apart: the mix-track bench recipe trains
exactly what Table 2's `+ curriculum` row trains, plus `composer.mix_track`."""

from __future__ import annotations

from pathlib import Path

from jen_composer.core.config import compose
from jen_composer.core.config.loader import to_container

LABELS = ("name", "notes", "tags", "evaluation")  # what a run is called and how it is scored, not what it learns


def _training(path: Path) -> dict:
    data = to_container(compose(path))
    return {k: v for k, v in data.items() if k not in LABELS}


def test_mix_recipe_is_the_curriculum_row_plus_the_mix_track(repo_root: Path) -> None:
    row = _training(repo_root / "experiments/ablations/curriculum.yaml")
    mix = _training(repo_root / "experiments/composer/bench_spectral_gpu_mix.yaml")
    assert mix["composer"].pop("mix_track") is True and row["composer"].pop("mix_track") is False
    assert mix == row
    assert row["trainer"]["max_steps"] == 1500 and row["curriculum"]["ramp_steps"] == 1000
