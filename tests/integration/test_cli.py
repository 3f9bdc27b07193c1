"""The CLI front door: help lists commands, usage errors are one line with exit code 2."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from jen_composer.cli.main import build_parser, main


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jen_composer.cli.main", *args], capture_output=True, text=True)


EXPECTED = ["demo", "config", "data", "fit", "autoencoder", "compose", "studio", "evaluate", "evaluate-audio",
            "listening-test", "rpr", "ablate", "bench"]


def test_help_lists_every_command_with_its_summary(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")  # one line per command
    text = build_parser().format_help()
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    names = list(choices)
    assert names[: len(EXPECTED)] == EXPECTED or set(EXPECTED) <= set(names), names
    for name in names:
        summary = next(a.help for a in build_parser()._subparsers._group_actions[0]._choices_actions  # type: ignore[union-attr]
                       if a.dest == name)
        assert f"  {name}" in text and summary and summary.replace("%%", "%") in text, name


def test_usage_error_is_one_line_exit_2() -> None:
    res = _run("no-such-command")
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "invalid choice" in res.stderr


def test_config_error_is_one_line_exit_2(repo_root: Path) -> None:
    res = _run("config", str(repo_root / "experiments/composer/tiny.yaml"), "trainer.max_step=3")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "jen-composer config: error: command line: unknown key 'trainer.max_step'; did you mean 'trainer.max_steps'?"
    ]


def test_config_command_prints_resolved(repo_root: Path, capsys) -> None:
    assert main(["config", str(repo_root / "experiments/composer/tiny.yaml"), "seed=5"]) == 0
    out = capsys.readouterr().out
    assert "seed: 5" in out and "run folder: runs/composer-tiny/" in out


def _all_parsers(parser, name="jen-composer"):  # type: ignore[no-untyped-def]
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _all_parsers(child, f"{name} {sub}")


def test_no_command_offers_the_test_engine() -> None:
    """The product CLI has no `--ckpt fake`: tests build the FakeEngine in Python (tests/fakes)."""
    helps = dict(_all_parsers(build_parser()))
    assert {"jen-composer compose", "jen-composer studio", "jen-composer data synth"} <= set(helps)
    for name, parser in helps.items():
        assert "'fake'" not in parser.format_help(), name
