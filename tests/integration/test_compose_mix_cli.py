"""`compose --import mix=FILE`: "separate this" (--rounds 1) and "add a bass that fits this mix"
(--rounds 1 --only bass), with a conversion note printed; refused in one line by an engine without
the mix track."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.cli.main import main
from jen_composer.composition.session import Session
from tests.fakes import FakeEngine

BASE = ["compose", "--ckpt", "fake", "--seconds", "1.0", "--steps", "3", "--prompt", "funk"]


def _engine(monkeypatch: pytest.MonkeyPatch, mix_track: bool) -> list[FakeEngine]:
    from jen_composer.inference import engine as engine_module

    made: list[FakeEngine] = []

    def load(_ckpt: str) -> FakeEngine:
        made.append(FakeEngine(mix_track=mix_track))
        return made[-1]

    monkeypatch.setattr(engine_module, "load_engine", load)
    return made


def _song(tmp_path: Path) -> Path:
    t = np.arange(44100 * 2) / 44100
    path = tmp_path / "song.wav"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 220 * t), 44100)
    return path


def test_compose_separates_a_mix_then_fits_a_bass_to_it(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    made = _engine(monkeypatch, mix_track=True)
    sdir = tmp_path / "s"
    assert main([*BASE, "--session", str(sdir), "--import", f"mix={_song(tmp_path)}", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "imported song.wav as kept 'mix'" in out and "note: song.wav: resampled 44100 -> 16000 Hz" in out
    assert "note: song.wav: cut from 2.00 s to the take's 1.00 s" in out
    assert made[-1].calls[-1]["kept"] == ["mix"] and len(made[-1].calls[-1]["generate"]) == 4
    assert main([*BASE, "--session", str(sdir), "--rounds", "1", "--only", "bass"]) == 0
    assert made[-1].calls[-1] == {**made[-1].calls[-1], "kept": ["mix"], "generate": ["bass"]}
    assert [r.op for r in Session.open(sdir).rounds] == ["import", "generate", "generate"]


def test_compose_refuses_a_mix_without_the_mix_track_in_one_line(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _engine(monkeypatch, mix_track=False)
    assert main([*BASE, "--session", str(tmp_path / "s"), "--import", f"mix={_song(tmp_path)}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["jen-composer compose: error: song.wav: this checkpoint was trained without the mix track "
                   "(composer.mix_track=false), so it cannot take a mix; use one trained with composer.mix_track=true"]


def test_the_loop_imports_a_mix_and_regenerates_only_some_tracks(tmp_path: Path) -> None:
    from jen_composer.cli.compose_loop import run_script

    engine = FakeEngine(mix_track=True)
    s = Session.create(tmp_path / "s", engine, "funk", seconds=1.0, seed=0)
    said: list[str] = []
    run_script(s, [f"import mix {_song(tmp_path)}", "all 3", "regen 4 bass,melody"], said.append)
    assert not [line for line in said if line.startswith("error")], said
    assert [c["generate"] for c in engine.calls] == [s.tracks, ["bass", "melody"]]
    assert all(c["kept"] == ["mix"] for c in engine.calls) and engine.calls[-1]["seed"] == 4
