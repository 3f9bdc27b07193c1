"""A mix in a session: imported once, it conditions every later round ("separate this", "add a bass
that fits this mix"); bad mixes are converted with a note or refused in one line, by name; an engine
without the mix track refuses it before anything is written."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.composition.replay import replay
from jen_composer.composition.session import Session
from jen_composer.composition.text import round_line
from jen_composer.core.errors import DataError, JenComposerError
from jen_composer.data.mix_input import condition_mix
from tests.fakes import FakeEngine

SR = 16000


def _wav(seconds: float = 2.0, sr: int = SR, scale: float = 0.3, channels: int = 1) -> bytes:
    t = np.arange(int(sr * seconds)) / sr
    x = scale * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
    buf = io.BytesIO()
    sf.write(buf, np.stack([x] * channels, axis=1), sr, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def _session(tmp_path: Path, mix_track: bool = True) -> tuple[Session, FakeEngine]:
    engine = FakeEngine(mix_track=mix_track)
    return Session.create(tmp_path / "s", engine, "funk", seconds=2.0, seed=1), engine


def test_separate_a_mix_then_add_a_bass_that_fits_it(tmp_path: Path) -> None:
    session, engine = _session(tmp_path)
    rnd = session.import_track("mix", _wav(), name="song.wav")
    assert rnd.generated == ["mix"] and session.takes["mix"] == 1 and session.kept == []
    session.generate_all()  # "separate this": every stem generated, the mix given
    assert engine.calls[-1]["kept"] == ["mix"] and engine.calls[-1]["generate"] == session.tracks
    assert "mix" not in session.take_sha256()  # never a stem of the session, nor in its mix or export
    session.keep("drums")
    session.regenerate(only=["bass"])  # "add a bass that fits this mix" (and the kept drums)
    assert engine.calls[-1]["kept"] == ["drums", "mix"] and engine.calls[-1]["generate"] == ["bass"]
    assert sorted(p.name for p in (session.export(tmp_path / "out") / "stems").iterdir()) == [
        f"{t}.wav" for t in session.tracks]
    assert replay(session.root, FakeEngine(mix_track=True)).identical


def test_an_engine_without_the_mix_track_refuses_a_mix_in_one_line(tmp_path: Path) -> None:
    session, _ = _session(tmp_path, mix_track=False)
    with pytest.raises(JenComposerError, match=r"song.wav: this checkpoint was trained without the mix track") as info:
        session.import_track("mix", _wav(), name="song.wav")
    assert "\n" not in str(info.value)
    assert session.rounds == [] and not (session.root / "imports").exists()


def test_another_sample_rate_or_a_longer_mix_is_converted_with_a_note(tmp_path: Path) -> None:
    session, _ = _session(tmp_path)
    rnd = session.import_track("mix", _wav(seconds=3.0, sr=22050, channels=2), name="wide.wav")
    notes = rnd.source["notes"]
    assert any("resampled 22050 -> 16000 Hz" in n for n in notes) and any("downmixed 2 -> 1" in n for n in notes)
    assert any("cut from 3.00 s to the take's 2.00 s" in n for n in notes)
    assert "note: wide.wav: resampled" in round_line(rnd)
    assert session.take("mix").shape == (1, 2 * SR)


@pytest.mark.parametrize(("audio", "message"), [
    (_wav(seconds=1.0), r"short.wav: the mix lasts 1.00 s but the take \(and its kept stems\) 2.00 s"),
    (_wav(scale=0.0), r"short.wav: the mix is silent"),
    (_wav(scale=1e-5), r"short.wav: the mix is silent"),
])
def test_a_short_or_silent_mix_is_refused_by_name(tmp_path: Path, audio: bytes, message: str) -> None:
    session, _ = _session(tmp_path)
    with pytest.raises(DataError, match=message):
        session.import_track("mix", audio, name="short.wav")
    assert session.rounds == []


def test_a_non_finite_mix_is_refused_by_name(tmp_path: Path) -> None:
    buf = io.BytesIO()
    x = np.full(2 * SR, 0.1, dtype=np.float32)
    x[100] = np.nan
    sf.write(buf, x, SR, format="WAV", subtype="FLOAT")
    session, _ = _session(tmp_path)
    with pytest.raises(DataError, match=r"nan.wav: the mix contains NaN or inf samples \(1 of 32000"):
        session.import_track("mix", buf.getvalue(), name="nan.wav")


def test_condition_mix_pads_within_tolerance_and_checks_shape() -> None:
    x = np.full((1, SR - 400), 0.1, dtype=np.float32)  # 25 ms short of 1 s: within the 50 ms tolerance
    out, notes = condition_mix(x, SR, sample_rate=SR, channels=1, samples=SR)
    assert out.shape == (1, SR) and np.all(out[:, -400:] == 0) and notes == ["mix: padded from 0.975 s to the take's 1.000 s"]
    same, none = condition_mix(np.full((1, SR), 0.1, dtype=np.float32), SR, sample_rate=SR, channels=1, samples=SR)
    assert none == [] and same.shape == (1, SR)
    with pytest.raises(DataError, match=r"mix: expected mix audio \[channels, samples\]"):
        condition_mix(np.zeros((1, 2, 3)), SR, sample_rate=SR, channels=1, samples=SR)
    with pytest.raises(DataError, match="mix: the mix contains NaN or inf"):
        condition_mix(np.array([0.1, np.inf]), SR, sample_rate=SR, channels=1, samples=2)
