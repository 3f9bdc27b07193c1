"""Choice fields are enums: a value outside the options fails at `jen-composer config` in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest
import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.nodes import EnumNode

from jen_composer.core.config import compose, from_container, to_container
from jen_composer.core.config.loader import schema
from jen_composer.core.config.options import Bottleneck, ClapBackend, LrScheduler, choices
from jen_composer.core.config.runinfo import run_id
from jen_composer.core.errors import ConfigError


def _choice_fields(node: DictConfig, prefix: str = "") -> dict[str, type[Enum]]:
    out: dict[str, type[Enum]] = {}
    for key in node.keys():
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            out.update(_choice_fields(child, f"{prefix}{key}."))
        elif isinstance(child, EnumNode):
            out[f"{prefix}{key}"] = child.enum_type
        elif isinstance(child, ListConfig) and isinstance(child._metadata.element_type, type) \
                and issubclass(child._metadata.element_type, Enum):
            out[f"{prefix}{key}"] = child._metadata.element_type
    return out


CHOICES = _choice_fields(schema())


def test_the_documented_command_line_fails_in_one_line(repo_root: Path) -> None:
    script = Path(sys.executable).with_name("jen-composer")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "jen_composer.cli.main"]
    env = {**os.environ, "PYTHONPATH": str(repo_root / "src")}
    res = subprocess.run([*cmd, "config", "experiments/composer/tiny.yaml", "curriculum.schedule=progresive"],
                         cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "jen-composer config: error: command line: 'curriculum.schedule' must be one of progressive, uniform, "
        "joint_only, got 'progresive'; did you mean 'progressive'?"
    ]
    assert res.stdout == ""


def test_the_option_fields_are_enums() -> None:
    for key in ("curriculum.schedule", "composer.diffusion.schedule", "composer.diffusion.prediction",
                "composer.diffusion.timestep_mode", "logger.kind", "data.source", "data.on_bad_input", "task",
                "trainer.optimizer.scheduler", "evaluation.tasks", "evaluation.fad.embedding"):
        assert key in CHOICES, key


@pytest.mark.parametrize("key", sorted(CHOICES))
def test_every_choice_field_accepts_its_options_and_refuses_others(key: str) -> None:
    enum = CHOICES[key]
    is_list = key == "evaluation.tasks"
    for option in choices(enum):
        got = OmegaConf.select(compose(None, [f"{key}={f'[{option}]' if is_list else option}"]), key)
        assert (list(got) if is_list else got) == ([option] if is_list else option)
    bad = f"[{choices(enum)[0]}x]" if is_list else f"{choices(enum)[0]}x"
    with pytest.raises(ConfigError, match=rf"'{key}' must be one of {', '.join(choices(enum))}, got"):
        compose(None, [f"{key}={bad}"])


def test_a_bad_choice_in_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    exp = tmp_path / "exp.yaml"
    exp.write_text("logger: {kind: wandbb}\n")
    with pytest.raises(ConfigError, match=rf"{exp}: 'logger.kind' must be one of .*did you mean 'wandb'\?"):
        compose(exp)


def test_saved_configs_hold_plain_strings(repo_root: Path) -> None:
    cfg = compose(repo_root / "experiments/ablations/baseline.yaml")
    data = to_container(cfg)
    assert yaml.safe_load(yaml.safe_dump(data)) == data  # no enum objects (checkpoints, W&B, config.yaml)
    assert type(data["curriculum"]["schedule"]) is str and data["curriculum"]["schedule"] == "joint_only"
    assert cfg.curriculum.schedule == "joint_only"  # code compares with plain strings
    again = from_container(data)
    assert again.curriculum.schedule == "joint_only" and run_id(again) == run_id(cfg)
    assert json.loads(json.dumps(data)) == data


def test_lower_layer_registries_match_the_options() -> None:
    from jen_composer.metrics.clap import BACKENDS
    from jen_composer.models.autoencoder.bottleneck import BOTTLENECKS
    from jen_composer.training.optim import SCHEDULERS

    assert set(BOTTLENECKS) == set(choices(Bottleneck))
    assert set(SCHEDULERS) == set(choices(LrScheduler))
    # none: no CLAP scoring; random: the random-weight model that tests/fakes registers (not shipped)
    assert {*BACKENDS, "none", "random"} == set(choices(ClapBackend))
