"""The studio takes a mix when its engine has the mix track (separate it, fit one track to it) and
refuses it in one line otherwise; the page shows the mix import only then."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from jen_composer.core.config.composition import CompositionConfig
from jen_composer.studio.app import create_app
from tests.fakes import FakeEngine
from tests.integration.test_studio_api import LOCAL, _session, _wait, _wav_bytes


def _client(tmp_path: Path, engine: FakeEngine) -> TestClient:
    return TestClient(create_app(engine, CompositionConfig(seconds=1.0), tmp_path / "sessions"), base_url=LOCAL)


def test_studio_separates_a_mix_and_fits_a_bass_to_it(tmp_path: Path) -> None:
    engine = FakeEngine(mix_track=True)
    c = _client(tmp_path, engine)
    assert c.get("/api/config").json()["mix_track"] is True
    sid = _session(c)
    up = c.post(f"/api/sessions/{sid}/import/mix", files={"file": ("song.wav", _wav_bytes(), "audio/wav")})
    assert up.status_code == 200, up.text
    assert "mix" in up.json()["takes"]
    job = c.post(f"/api/sessions/{sid}/generate", json={"mode": "all"}).json()
    assert _wait(c, job["id"])["status"] == "done"
    assert engine.calls[-1]["kept"] == ["mix"] and len(engine.calls[-1]["generate"]) == 4
    job = c.post(f"/api/sessions/{sid}/generate", json={"mode": "unkept", "only": ["bass"]}).json()
    assert _wait(c, job["id"])["status"] == "done"
    assert engine.calls[-1]["generate"] == ["bass"] and engine.calls[-1]["kept"] == ["mix"]


def test_studio_refuses_a_mix_without_the_mix_track(tmp_path: Path) -> None:
    c = _client(tmp_path, FakeEngine())
    assert c.get("/api/config").json()["mix_track"] is False
    sid = _session(c)
    res = c.post(f"/api/sessions/{sid}/import/mix", files={"file": ("song.wav", _wav_bytes(), "audio/wav")})
    assert res.status_code == 400 and "trained without the mix track" in res.json()["detail"]
    assert "\n" not in res.json()["detail"] and c.get(f"/api/sessions/{sid}").json()["takes"] == {}
