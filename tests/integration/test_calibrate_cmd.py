"""`jen-composer calibrate` on a real (tiny) checkpoint and rendered songs: the documented command line
prints an override that `compose` accepts, and bad input is one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jen_composer.cli.main import main


def test_calibrate_prints_an_override_that_compose_runs(tiny_composer_run, tmp_path: Path, one_thread,  # type: ignore[no-untyped-def]
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg, result = tiny_composer_run
    data = tmp_path / "songs"  # the tiny world with three test songs: one to calibrate on, two to check on
    shutil.copytree(cfg.data.root, data)
    songs = sorted(p.name for p in data.iterdir() if p.is_dir())
    (data / "splits.json").write_text(json.dumps({"train": songs[:3], "val": [], "test": songs[3:]}))
    out = tmp_path / "grid.json"
    assert main(["calibrate", "--ckpt", str(result.last_checkpoint), "--data", str(data), "--generate",
                 "instrument,melody", "--keep", "drums,bass", "--steps", "3", "--clips", "1", "--seconds", "1",
                 "--reference-steps", "12", "--max-evaluations", "12", "--check-clips", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    found = json.loads(out.read_text())
    assert len(found["logsnr_points"]) == 2 and found["error"] <= found["even_grid_error"] and found["evaluations"] >= 12
    assert found["keep"] == ["drums", "bass"] and found["override"] in printed and found["songs"] == songs[3:4]
    check = found["check"]
    assert check["songs"] == songs[4:] and all(v >= 0 for k, v in check.items() if k != "songs")
    assert any(k.startswith("configured (") for k in check) and "other held-out songs" in printed
    assert main(["calibrate", "--ckpt", str(result.last_checkpoint), "--data", str(data), "--generate", "bass",
                 "--steps", "3", "--clips", "3", "--check-clips", "1"]) == 2
    assert "no held-out songs left for --check-clips" in capsys.readouterr().err
    assert main(["compose", "--ckpt", str(result.last_checkpoint), "--prompt", "funk", "--generate", "all", "--seconds", "1",
                 "--session", str(tmp_path / "s"), *found["override"].split()]) == 0
    session = json.loads((tmp_path / "s" / "session.json").read_text())
    assert list(session["settings"]["logsnr_points"]) == pytest.approx(found["logsnr_points"])


@pytest.mark.parametrize("args,message", [
    (["--generate", "bass", "--keep", "bass", "--steps", "3"], "must be disjoint tracks"),
    (["--generate", "piano", "--steps", "3"], "must be disjoint tracks"),
    (["--generate", "bass", "--steps", "1"], "--steps: 1 must be at least 2"),
    (["--generate", "bass", "--steps", "3", "--clips", "0"], "--clips: must be at least 1"),
    (["--generate", "bass", "--steps", "3", "--check-clips", "-1"], "--check-clips: must be 0 or more"),
])
def test_bad_calibrate_input_is_one_line(tiny_composer_run, args: list[str], message: str,  # type: ignore[no-untyped-def]
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cfg, result = tiny_composer_run
    assert main(["calibrate", "--ckpt", str(result.last_checkpoint), "--data", str(cfg.data.root), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0
