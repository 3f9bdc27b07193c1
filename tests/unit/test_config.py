"""The config system: composition order, typed errors with suggestions, round trips, run ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from jen_composer.core.config import (
    compose,
    from_container,
    load_resolved,
    run_id,
    to_container,
    write_run_files,
)
from jen_composer.core.config.root import RunConfig
from jen_composer.core.errors import ConfigError


def test_experiment_composes_groups_then_body_then_overrides(experiment_tree: Path) -> None:
    cfg = compose(experiment_tree / "experiments" / "exp.yaml", ["trainer.max_steps=11", "data.channels=2"])
    assert cfg.data.sample_rate == 8000  # from the group file
    assert cfg.data.batch_size == 5  # experiment body beats the group
    assert cfg.trainer.max_steps == 11  # command line beats both
    assert cfg.trainer.optimizer.lr == 0.01
    assert cfg.data.channels == 2
    assert cfg.name == "exp" and list(cfg.tags) == ["a"] and cfg.seed == 3
    assert cfg.data.snippet_seconds == RunConfig().data.snippet_seconds  # untouched default


def test_misspelt_override_names_key_and_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"command line: unknown key 'trainer.max_step'; did you mean 'trainer.max_steps'"):
        compose(None, ["trainer.max_step=3"])


def test_misspelt_key_in_file_names_the_file(experiment_tree: Path) -> None:
    bad = experiment_tree / "configs" / "data" / "small.yaml"
    bad.write_text("sample_rat: 8000\n")
    with pytest.raises(ConfigError) as err:
        compose(experiment_tree / "experiments" / "exp.yaml")
    assert str(bad) in str(err.value) and "'data.sample_rat'" in str(err.value)
    assert "did you mean 'data.sample_rate'" in str(err.value)


def test_type_mismatch_names_key() -> None:
    with pytest.raises(ConfigError, match=r"bad value for 'trainer.max_steps'"):
        compose(None, ["trainer.max_steps=lots"])


def test_unknown_group_and_missing_group_file(experiment_tree: Path) -> None:
    exp = experiment_tree / "experiments" / "exp.yaml"
    exp.write_text("defaults: [dta/small]\n")
    with pytest.raises(ConfigError, match="unknown config group 'dta'; did you mean 'data/small'"):
        compose(exp)
    exp.write_text("defaults: [data/smal]\n")
    with pytest.raises(ConfigError, match="did you mean 'data/small'"):
        compose(exp)


def test_malformed_override_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must look like key=value"):
        compose(None, ["trainer.max_steps"])
    with pytest.raises(ConfigError, match="not found"):
        compose(tmp_path / "nope.yaml")


def test_resolved_config_round_trips(tmp_path: Path, experiment_tree: Path) -> None:
    cfg = compose(experiment_tree / "experiments" / "exp.yaml", ["seed=9"])
    meta = write_run_files(cfg, tmp_path / "run")
    again = load_resolved(tmp_path / "run" / "config.yaml")
    assert OmegaConf.to_container(again) == OmegaConf.to_container(cfg)
    assert run_id(again) == run_id(cfg) == meta["run_id"]
    assert meta["seed"] == 9 and "torch" in meta["versions"] and "sha" in meta["git"]
    assert from_container(to_container(cfg)) == cfg


def test_run_id_ignores_logging_only_keys() -> None:
    base = compose(None, [])
    renamed = compose(None, ["name=other", "tags=[x]", "notes=hello", "logger.kind=wandb"])
    changed = compose(None, ["trainer.max_steps=2"])
    assert run_id(base) == run_id(renamed)
    assert run_id(base) != run_id(changed)


def test_every_shipped_experiment_composes(repo_root: Path) -> None:
    """Every runnable recipe composes (sweep files and ablation manifests are not run configs)."""
    files = [
        f for f in sorted((repo_root / "experiments").rglob("*.yaml"))
        if "sweeps" not in f.parts and "rows" not in (yaml.safe_load(f.read_text()) or {})  # not an ablation manifest
    ]
    assert files, "no experiment files found"
    for path in files:
        cfg = compose(path)
        assert cfg.name != "unnamed", f"{path} sets no name"
