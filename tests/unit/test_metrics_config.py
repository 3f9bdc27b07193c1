"""The evaluation YAML groups and the CLI defaults agree with the typed schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from jen_composer.core.config.loader import _read_yaml, merge_checked, schema
from jen_composer.core.errors import ConfigError
from jen_composer.metrics.clap import BACKENDS


def test_evaluation_groups_are_valid(repo_root: Path) -> None:
    files = sorted((repo_root / "configs" / "evaluation").glob("*.yaml"))
    assert {p.stem for p in files} >= {"offline", "laion_music", "laion_630k", "hf_clap"}
    for path in files:
        cfg = merge_checked(schema(), {"evaluation": _read_yaml(path)}, str(path))
        assert cfg.evaluation.clap.backend in ("none", *BACKENDS)


def test_unknown_evaluation_key_is_named() -> None:
    with pytest.raises(ConfigError, match="evaluation.clap.checkpont"):
        merge_checked(schema(), {"evaluation": {"clap": {"checkpont": "x"}}}, "test")
