"""Sessions: Algorithm 1 rounds, kept takes untouched, undo, mix, export, reopen and replay."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.composition.replay import replay
from jen_composer.composition.session import Session
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import JenComposerError
from tests.fakes import FakeEngine

SECONDS = 1.0


def _new(tmp_path: Path, engine: FakeEngine | None = None) -> Session:
    return Session.create(tmp_path / "s", engine or FakeEngine(), "lofi hip hop, mellow", seconds=SECONDS, seed=7)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tone(path: Path, sr: int = 22050, seconds: float = 1.5, amp: float = 0.5) -> Path:
    t = np.arange(int(sr * seconds)) / sr
    sf.write(path, np.stack([amp * np.sin(2 * np.pi * 330 * t)] * 2, axis=1), sr)
    return path


def test_generate_keep_regenerate_keeps_kept_bits(tmp_path: Path) -> None:
    s = _new(tmp_path)
    r1 = s.generate_all()
    assert r1.generated == s.tracks and all(s.take(t).shape == (1, 16000) for t in s.tracks)
    s.keep("drums", "bass")
    before = {t: _sha(s.take_path(t)) for t in ("drums", "bass")}
    old_melody = s.take("melody").copy()
    r2 = s.regenerate()
    assert r2.generated == ["instrument", "melody"] and r2.inputs == {"bass": 1, "drums": 1}
    assert {t: _sha(s.take_path(t)) for t in ("drums", "bass")} == before
    assert not np.array_equal(s.take("melody"), old_melody)
    assert s.engine.calls[-1]["kept"] == ["bass", "drums"]  # type: ignore[union-attr]


def test_conditioning_changes_output(tmp_path: Path) -> None:
    """Same seed, different kept audio -> different generation (the fake engine listens to kept tracks)."""
    a, b = _new(tmp_path / "a"), _new(tmp_path / "b")
    a.generate_all(seed=1)
    b.generate_all(seed=2)
    a.keep("drums")
    b.keep("drums")
    a.regenerate(seed=5)
    b.regenerate(seed=5)
    assert a.rounds[1].seed == b.rounds[1].seed == 5
    assert not np.array_equal(a.take("bass"), b.take("bass"))


def test_import_aligns_and_matches_loudness(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.generate_all()
    rnd = s.import_track("melody", _tone(tmp_path / "lead.wav"))
    take = s.take("melody")
    assert take.shape == (1, 16000) and take.dtype == np.float32
    assert "melody" in s.kept and rnd.source and rnd.source["name"] == "lead.wav"
    others = np.mean([20 * np.log10(np.sqrt(np.mean(s.take(t) ** 2))) for t in ("bass", "drums", "instrument")])
    assert abs(20 * np.log10(np.sqrt(np.mean(take**2))) - others) < 1.0
    assert (s.root / rnd.source["stored"]).read_bytes() == (tmp_path / "lead.wav").read_bytes()


def test_reimagine_and_region(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.generate_all()
    with pytest.raises(JenComposerError, match="keep 'bass' first"):
        s.reimagine("bass", 0.5)
    s.keep("bass")
    old = s.take("bass").copy()
    s.reimagine("bass", 0.3)
    assert "bass" in s.kept and not np.array_equal(s.take("bass"), old)
    before = s.take("melody").copy()
    s.regenerate_region("melody", 0.25, 0.5)
    after = s.take("melody")
    assert np.array_equal(after[:, :4000], before[:, :4000]) and np.array_equal(after[:, 8000:], before[:, 8000:])
    assert not np.array_equal(after[:, 4000:8000], before[:, 4000:8000])
    with pytest.raises(JenComposerError, match="region must satisfy"):
        s.regenerate_region("melody", 0.8, 0.2)


def test_undo_to_any_round_and_back(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.generate_all()
    s.keep("drums", "bass")
    s.regenerate()
    takes2 = s.takes
    s.unkeep("bass")
    s.regenerate()
    s.undo()  # back to round 2's state
    assert s.takes == takes2 and s.kept == ["bass", "drums"]
    s.undo()  # and once more: round 1
    assert set(s.takes.values()) == {1} and s.kept == []
    s.undo(to_round=3)  # "redo" is an undo to a later round
    assert s.takes["melody"] == 3
    s.undo(to_round=0)
    assert s.takes == {} and len(s.rounds) == 7
    with pytest.raises(JenComposerError, match="between 0 and"):
        s.undo(to_round=99)


def test_mix_gain_mute_solo(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.generate_all()
    total = sum(s.take(t).astype(np.float64) for t in s.tracks)
    assert np.allclose(s.mix(), total, atol=1e-6)
    s.set_gain("bass", -6.0)
    s.set_mute("drums")
    expect = total - s.take("drums") - s.take("bass") * (1 - 10 ** (-6 / 20))
    assert np.allclose(s.mix(), expect, atol=1e-6)
    s.set_solo("melody")
    assert np.allclose(s.mix(), s.take("melody"), atol=1e-7)


def test_export_and_zip_are_aligned_and_bit_identical(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.generate_all()
    s.keep("drums", "bass")
    s.regenerate()
    out = s.export(tmp_path / "out")
    lengths = {sf.info(out / "stems" / f"{t}.wav").frames for t in s.tracks}
    assert lengths == {16000} and sf.info(out / "mix.wav").frames == 16000
    for t in s.tracks:
        assert (out / "stems" / f"{t}.wav").read_bytes() == s.take_path(t).read_bytes()
    meta = json.loads((out / "session.json").read_text())
    assert meta["export"]["stems_sha256"]["drums"] == _sha(s.take_path("drums"))
    z = s.export_zip(tmp_path / "x.zip")
    with zipfile.ZipFile(z) as zf:
        assert sorted(zf.namelist()) == sorted([f"stems/{t}.wav" for t in s.tracks] + ["mix.wav", "session.json"])
        assert zf.read("stems/bass.wav") == s.take_path("bass").read_bytes()


def test_reopen_continue_and_replay_exact(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.generate_all()
    s.keep("drums", "bass")
    s.regenerate()
    s.import_track("melody", _tone(tmp_path / "lead.wav"))
    s.set_prompt("dark techno")
    s2 = Session.open(s.root, FakeEngine())
    assert s2.kept == ["bass", "drums", "melody"] and s2.prompt == "dark techno"
    s2.regenerate()  # only 'instrument' is unkept
    s2.keep("instrument")
    s2.reimagine("drums", 0.5)
    s2.regenerate_region("bass", 0.1, 0.6)
    s2.undo()
    report = replay(s.root, FakeEngine())
    assert report.identical and report.rounds == 5 and report.takes == 9
    # tamper with one stored take: replay must notice
    victim = s2.take_path("instrument")
    data, sr = sf.read(victim, dtype="float32")
    sf.write(victim, data * 0.5, sr, subtype="FLOAT")
    bad = replay(s.root, FakeEngine())
    assert not bad.identical and "instrument" in bad.mismatches[0]


def test_bad_operations_raise_clear_errors(tmp_path: Path) -> None:
    s = _new(tmp_path)
    with pytest.raises(JenComposerError, match="no take yet"):
        s.keep("bass")
    with pytest.raises(JenComposerError, match="unknown track 'kazoo'"):
        s.unkeep("kazoo")
    s.generate_all()
    s.keep(*s.tracks)
    with pytest.raises(JenComposerError, match="every track is kept"):
        s.regenerate()
    with pytest.raises(JenComposerError, match="steps: must be at least 1"):
        s.set_settings(steps=0)
    with pytest.raises(JenComposerError, match="already exists"):
        Session.create(s.root, FakeEngine(), "x")
    with pytest.raises(JenComposerError, match="do not match"):
        Session.open(s.root, FakeEngine(sample_rate=8000))
    with pytest.raises(JenComposerError, match="without an engine"):
        Session.open(s.root).generate_all()


def test_atomic_save_survives_failed_round(tmp_path: Path) -> None:
    class Broken(FakeEngine):
        def generate(self, *a, **k):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    s = _new(tmp_path)
    s.generate_all()
    before = (s.root / "session.json").read_text()
    s.engine = Broken()
    with pytest.raises(RuntimeError):
        s.regenerate()
    assert (s.root / "session.json").read_text() == before
    assert len(Session.open(s.root).rounds) == 1 and CompositionConfig().seconds > 0
