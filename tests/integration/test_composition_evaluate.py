"""`evaluate` on a tiny checkpoint writes the paper-style table and plots; `ablate` builds Table 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jen_composer.cli.main import main
from tests.helpers import tiny_composer_overrides

FAST_CLAP = ["evaluation.clap.backend=random", "evaluation.clap.amodel=HTSAT-tiny", "evaluation.clip_seconds=1.0"]


def test_evaluate_checkpoint_writes_tables_and_plots(tiny_composer_run, tmp_path: Path, capsys, random_clap) -> None:
    _, result = tiny_composer_run
    out = tmp_path / "eval"
    code = main(["evaluate", "--ckpt", str(result.last_checkpoint), "--tasks", "joint,conditional,interactive",
                 "--clips", "1", "--seeds", "0", "--out", str(out), *FAST_CLAP, "evaluation.interactive_rounds=2"])
    assert code == 0
    data = json.loads((out / "results.json").read_text())
    rows = {r["task"]: r for r in data["results"]}
    assert set(rows) == {"joint", "conditional", "interactive"}
    assert all(-1.0 <= v <= 1.0 for v in rows["joint"]["clap"].values())
    cond = rows["conditional"]["clap"]
    assert cond["drums"] != cond["drums"] and cond["bass"] != cond["bass"]  # kept tracks are not scored (NaN)
    assert rows["joint"]["fad"]["mix"]["clips"] == 1
    assert "Mixed" in (out / "results.md").read_text()
    assert (out / "clap_mix.png").is_file() and (out / "clap_bass.png").is_file()
    assert "results.md" in capsys.readouterr().out


def test_evaluate_rejects_non_evaluation_overrides(tiny_composer_run, capsys) -> None:
    _, result = tiny_composer_run
    assert main(["evaluate", "--ckpt", str(result.last_checkpoint), "trainer.max_steps=3"]) == 2
    assert "only takes evaluation.*" in capsys.readouterr().err


@pytest.mark.slow
def test_ablate_tiny_manifest_builds_table(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path: Path, repo_root: Path,
                                           capsys, random_clap) -> None:
    overrides = [*tiny_composer_overrides(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path / "runs"),
                 "trainer.max_steps=2", "evaluation.num_clips=1", "evaluation.interactive_rounds=2", *FAST_CLAP]
    manifest = tmp_path / "table.yaml"
    manifest.write_text(
        "title: tiny table\nrows:\n"
        + "".join(f"  - {{label: {n}, experiment: {repo_root}/experiments/ablations/{n}.yaml}}\n"
                  for n in ("baseline", "curriculum", "interactive"))
        + "seeds: [0]\ncolumns: [clap/mix, fad/mix, coherence/beat_sync]\n"
    )
    assert main(["ablate", str(manifest), *overrides, "--out", str(tmp_path / "table")]) == 0
    text = (tmp_path / "table" / "table.md").read_text()
    tables = [block for block in text.split("\n\n") if block.startswith("| ")]
    assert len(tables) == 2  # the rows, then each row's paired difference from the first
    assert tables[0].count("\n| ") == 3 and tables[0].startswith("| row |")  # header + 3 rows
    assert [line.split(" | ")[0] for line in tables[1].splitlines()[2:]] == ["| curriculum", "| interactive"]
    assert "reusing the finished training run" in capsys.readouterr().out  # interactive reuses curriculum
    assert (tmp_path / "table" / "table.csv").read_text().startswith("row,clap/mix mean")


def test_manifest_with_unknown_key_is_a_clear_error(tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("title: t\nrowz: []\n")
    assert main(["ablate", str(manifest)]) == 2
    assert "unknown key 'rowz'; did you mean 'rows'" in capsys.readouterr().err
