"""`jen-composer compose`: a scripted multi-round session, the interactive loop, and clear errors."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from jen_composer.cli.compose_loop import run_script
from jen_composer.cli.main import main
from jen_composer.composition.replay import replay
from jen_composer.composition.session import Session
from tests.fakes import FakeEngine

BASE = ["compose", "--ckpt", "fake", "--seconds", "1.0", "--steps", "3"]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_scripted_session_rounds_export_and_replay(tmp_path: Path, capsys, fake_engine) -> None:  # type: ignore[no-untyped-def]
    sdir, out = tmp_path / "sess", tmp_path / "out"
    lead = tmp_path / "lead.flac"
    t = np.arange(48000 * 2) / 48000
    sf.write(lead, np.stack([0.2 * np.sin(2 * np.pi * 500 * t)] * 2, axis=1), 48000)
    assert main([*BASE, "--prompt", "jazz trio", "--session", str(sdir), "--generate", "all",
                 "--keep", "drums,bass", "--rounds", "1"]) == 0
    s = Session.open(sdir)
    kept = {t: _sha(s.take_path(t)) for t in ("drums", "bass")}
    assert [r.generated for r in s.rounds] == [["bass", "drums", "instrument", "melody"], ["instrument", "melody"]]
    assert main([*BASE, "--session", str(sdir), "--import", f"melody={lead}", "--rounds", "1",
                 "--undo", "last", "--export", str(out)]) == 0
    s = Session.open(sdir)
    assert [r.op for r in s.rounds] == ["generate", "generate", "import", "generate", "undo"]
    assert s.kept == ["bass", "drums", "melody"] and s.rounds[1].settings["steps"] == 3
    for t in s.tracks:
        assert (out / "stems" / f"{t}.wav").read_bytes() == s.take_path(t).read_bytes()
        assert sf.info(out / "stems" / f"{t}.wav").frames == 16000
    assert {t: _sha(out / "stems" / f"{t}.wav") for t in kept} == kept
    assert json.loads((out / "session.json").read_text())["prompt"] == "jazz trio"
    assert "round 4: regenerated instrument" in capsys.readouterr().out
    assert replay(sdir, FakeEngine()).identical


def test_cli_errors_are_one_line(tmp_path: Path, capsys, fake_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert main([*BASE, "--prompt", "x", "--session", str(tmp_path / "s"),
                 "--generate", "all", "--import", f"melody={tmp_path / 'missing.wav'}"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["jen-composer compose: error: missing.wav: no such file"]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # reopened, no action flags, stdin not a TTY: must not block
    assert main(["compose", "--ckpt", "fake", "--session", str(tmp_path / "s")]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["compose", "--ckpt", "fake", "--session", str(tmp_path / "new")]) == 2


def test_product_cli_has_no_test_engine(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([*BASE, "--prompt", "x", "--session", str(tmp_path / "s"), "--generate", "all"]) == 2
    assert "fake: checkpoint not found" in capsys.readouterr().err


def test_interactive_commands(tmp_path: Path) -> None:
    s = Session.create(tmp_path / "s", FakeEngine(), "drum and bass", seconds=1.0)
    said: list[str] = []
    run_script(s, ["all 5", "keep drums,bass", "regen", "prompt liquid dnb", "set steps=4 cfg=2.5",
                   "reimagine drums 0.4", "region melody 0.2 0.6", "mix gain bass -3", "mix mute drums",
                   "undo 2", "history", "keep kazoo", "frobnicate", f"export {tmp_path / 'out'}", "quit", "all"],
               say=said.append)
    text = "\n".join(said)
    assert "error: unknown track 'kazoo'" in text and "unknown or incomplete command: 'frobnicate'" in text
    assert [r.op for r in s.rounds] == ["generate", "generate", "reimagine", "region", "undo"]
    assert s.rounds[0].seed == 5 and s.rounds[2].prompt == "liquid dnb" and s.settings.steps == 4
    assert s.mix_state.gain_db == {"bass": -3.0} and s.mix_state.mute == ["drums"]
    assert (tmp_path / "out" / "mix.wav").is_file() and len(s.rounds) == 5  # "all" after quit never ran
