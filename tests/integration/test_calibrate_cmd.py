"""`jen-composer calibrate` on a real (tiny) checkpoint and rendered songs: the documented command line
prints an override that `compose` accepts, and bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jen_composer.cli.main import main


def test_calibrate_prints_an_override_that_compose_runs(tiny_composer_run, tmp_path: Path, one_thread,  # type: ignore[no-untyped-def]
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg, result = tiny_composer_run
    out = tmp_path / "grid.json"
    assert main(["calibrate", "--ckpt", str(result.last_checkpoint), "--data", str(cfg.data.root), "--generate",
                 "instrument,melody", "--keep", "drums,bass", "--steps", "3", "--clips", "2", "--seconds", "1",
                 "--reference-steps", "12", "--max-evaluations", "12", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    found = json.loads(out.read_text())
    assert len(found["logsnr_points"]) == 2 and found["error"] <= found["even_grid_error"] and found["evaluations"] >= 12
    assert found["keep"] == ["drums", "bass"] and found["override"] in printed
    assert main(["compose", "--ckpt", str(result.last_checkpoint), "--prompt", "funk", "--generate", "all", "--seconds", "1",
                 "--session", str(tmp_path / "s"), *found["override"].split()]) == 0
    session = json.loads((tmp_path / "s" / "session.json").read_text())
    assert list(session["settings"]["logsnr_points"]) == pytest.approx(found["logsnr_points"])


@pytest.mark.parametrize("args,message", [
    (["--generate", "bass", "--keep", "bass", "--steps", "3"], "must be disjoint tracks"),
    (["--generate", "piano", "--steps", "3"], "must be disjoint tracks"),
    (["--generate", "bass", "--steps", "1"], "--steps: 1 must be at least 2"),
    (["--generate", "bass", "--steps", "3", "--clips", "0"], "--clips: must be at least 1"),
])
def test_bad_calibrate_input_is_one_line(tiny_composer_run, args: list[str], message: str,  # type: ignore[no-untyped-def]
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cfg, result = tiny_composer_run
    assert main(["calibrate", "--ckpt", str(result.last_checkpoint), "--data", str(cfg.data.root), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0
