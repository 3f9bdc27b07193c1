"""Studio HTTP API: the co-composition flow, uploads (traversal, oversize, corrupt) and concurrency."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from jen_composer.core.config.composition import CompositionConfig
from jen_composer.studio.app import create_app
from tests.fakes import FakeEngine

LOCAL = "http://127.0.0.1:7860"  # the studio answers loopback hosts only (TestClient's default is "testserver")


def _client(tmp_path: Path, step_delay: float = 0.0, max_upload_mb: float = 1.0,
            gate: threading.Event | None = None) -> TestClient:
    cfg = CompositionConfig(seconds=1.0)
    cfg.studio.max_upload_mb = max_upload_mb
    return TestClient(create_app(FakeEngine(step_delay=step_delay, gate=gate), cfg, tmp_path / "sessions"), base_url=LOCAL)


def _wait(c: TestClient, job_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "error"):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


def _wav_bytes(seconds: float = 1.2, sr: int = 22050) -> bytes:
    buf = io.BytesIO()
    t = np.arange(int(sr * seconds)) / sr
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 300 * t), sr, format="WAV")
    return buf.getvalue()


def _session(c: TestClient) -> str:
    res = c.post("/api/sessions", json={"prompt": "ambient piano"})
    assert res.status_code == 200, res.text
    return res.json()["id"]


def _generate(c: TestClient, sid: str, mode: str) -> dict:
    job = c.post(f"/api/sessions/{sid}/generate", json={"mode": mode}).json()
    done = _wait(c, job["id"])
    assert done["status"] == "done", done
    return c.get(f"/api/sessions/{sid}").json()


def test_flow_keep_regenerate_import_undo_export(tmp_path: Path) -> None:
    c = _client(tmp_path)
    sid = _session(c)
    s1 = _generate(c, sid, "all")
    assert set(s1["takes"]) == {"bass", "drums", "instrument", "melody"} and len(s1["takes"]["bass"]["peaks"]) == 400
    c.post(f"/api/sessions/{sid}/keep", json={"track": "drums", "kept": True})
    s2 = c.post(f"/api/sessions/{sid}/keep", json={"track": "bass", "kept": True}).json()
    assert s2["kept"] == ["bass", "drums"]
    s3 = _generate(c, sid, "unkept")
    for t in ("bass", "drums"):
        assert s3["takes"][t]["sha256"] == s1["takes"][t]["sha256"]
    assert s3["takes"]["melody"]["sha256"] != s1["takes"]["melody"]["sha256"]
    up = c.post(f"/api/sessions/{sid}/import/melody", files={"file": ("my lead.wav", _wav_bytes(), "audio/wav")})
    assert up.status_code == 200, up.text and up.json()["kept"] == ["bass", "drums", "melody"]
    s5 = _generate(c, sid, "unkept")
    assert s5["rounds"][-1]["generated"] == ["instrument"]
    s6 = c.post(f"/api/sessions/{sid}/undo", json={}).json()
    assert s6["takes"]["instrument"] == s3["takes"]["instrument"]
    audio = c.get(f"/api/sessions/{sid}/tracks/bass.wav")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert sf.info(io.BytesIO(audio.content)).frames == 16000
    c.post(f"/api/sessions/{sid}/mix", json={"track": "drums", "gain_db": -6, "mute": True})
    assert c.get(f"/api/sessions/{sid}/mix.wav").status_code == 200
    z = zipfile.ZipFile(io.BytesIO(c.get(f"/api/sessions/{sid}/export.zip").content))
    for t in ("bass", "drums", "melody", "instrument"):
        assert hashlib.sha256(z.read(f"stems/{t}.wav")).hexdigest() == s6["takes"][t]["sha256"]
    assert {sf.info(io.BytesIO(z.read(n))).frames for n in z.namelist() if n.endswith(".wav")} == {16000}


@pytest.mark.parametrize("name", ["../../evil.wav", "..\\..\\evil.wav", "/etc/evil.wav", "....//evil.wav"])
def test_upload_names_cannot_escape(tmp_path: Path, name: str) -> None:
    c = _client(tmp_path)
    sid = _session(c)
    res = c.post(f"/api/sessions/{sid}/import/bass", files={"file": (name, _wav_bytes(), "audio/wav")})
    assert res.status_code == 200, res.text
    root = tmp_path / "sessions" / sid
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(root in p.parents for p in written), written
    assert not any(p.name == "evil.wav" and p.parent != root / "imports" for p in written)
    assert [p.name for p in (root / "imports").iterdir()] == ["0001_bass_evil.wav"]


def test_bad_uploads_leave_session_intact(tmp_path: Path) -> None:
    c = _client(tmp_path, max_upload_mb=0.05)
    sid = _session(c)
    before = _generate(c, sid, "all")
    cases = [
        (("x.wav", b"RIFF....WAVEfmt garbage", "audio/wav"), 400, "not a readable audio file"),
        (("x.wav", b"", "audio/wav"), 400, "empty"),
        (("x.exe", _wav_bytes(0.6, 8000), "application/octet-stream"), 400, "unsupported file type"),
        (("big.wav", _wav_bytes(2.0, 44100), "audio/wav"), 413, "too large"),
    ]
    for file, code, text in cases:
        res = c.post(f"/api/sessions/{sid}/import/melody", files={"file": file})
        assert res.status_code == code and text in res.json()["detail"], res.text
    assert c.post(f"/api/sessions/{sid}/import/kazoo", files={"file": cases[0][0]}).status_code == 400
    assert c.get("/api/sessions/../../etc").status_code == 404
    assert c.get("/api/sessions/" + "f" * 32).status_code == 404
    assert c.get("/static/..%2Fapp.py").status_code in (404, 400)
    after = c.get(f"/api/sessions/{sid}").json()
    assert after["takes"] == before["takes"] and after["rounds"] == before["rounds"]
    assert not (tmp_path / "sessions" / sid / "imports").exists()


def test_static_files_and_unknown_things_are_404(tmp_path: Path) -> None:
    c = _client(tmp_path)
    page = c.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert c.get("/static/app.js").status_code == 200 and "text/css" in c.get("/static/style.css").headers["content-type"]
    for path in ("/static/missing.js", "/static/", "/api/jobs/" + "0" * 32):
        res = c.get(path)
        assert res.status_code == 404, path
    assert "no job" in c.get("/api/jobs/nope").json()["detail"]


def test_settings_are_sampler_settings(tmp_path: Path) -> None:
    c = _client(tmp_path)
    sid = _session(c)
    state = c.post(f"/api/sessions/{sid}/settings", json={"steps": 7, "cfg": 2.5, "name": "ddim"}).json()
    assert state["settings"]["steps"] == 7 and state["settings"]["text_guidance"] == 2.5
    assert state["settings"]["name"] == "ddim"
    for body, text in [({"colour": 1}, "unknown sampler setting 'colour'"), ({"steps": 0}, "steps: must be at least 1"),
                       ({"sampler": "euler"}, "'euler' is not one of")]:
        res = c.post(f"/api/sessions/{sid}/settings", json=body)
        assert res.status_code == 400 and text in res.json()["detail"], res.text


def test_job_errors_are_reported(tmp_path: Path) -> None:
    c = _client(tmp_path)
    sid = _session(c)
    job = c.post(f"/api/sessions/{sid}/reimagine", json={"track": "bass", "strength": 0.5}).json()
    done = _wait(c, job["id"])
    assert done["status"] == "error" and "keep 'bass' first" in done["error"]
    assert c.post(f"/api/sessions/{sid}/settings", json={"steps": 0}).status_code == 400


def test_concurrent_regenerates_are_serialised(tmp_path: Path) -> None:
    gate = threading.Event()
    gate.set()
    c = _client(tmp_path, step_delay=0.01, gate=gate)
    sid = _session(c)
    _generate(c, sid, "all")
    c.post(f"/api/sessions/{sid}/keep", json={"track": "drums", "kept": True})
    kept_sha = c.get(f"/api/sessions/{sid}").json()["takes"]["drums"]["sha256"]
    ids: list[str] = []
    barrier = threading.Barrier(2)

    def fire() -> None:
        barrier.wait()
        ids.append(c.post(f"/api/sessions/{sid}/generate", json={"mode": "unkept"}).json()["id"])

    gate.clear()  # both jobs are held mid-way until the state has been read
    threads = [threading.Thread(target=fire) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen_busy = c.get(f"/api/sessions/{sid}").json()["busy"]  # answered while a job is held: reads do not wait
    assert seen_busy in ids and {c.get(f"/api/jobs/{i}").json()["status"] for i in ids} <= {"queued", "running"}
    gate.set()
    assert all(_wait(c, i)["status"] == "done" for i in ids)
    state = c.get(f"/api/sessions/{sid}").json()
    assert [r["index"] for r in state["rounds"]] == [1, 2, 3] and state["busy"] is None
    assert state["rounds"][2]["kept"] == ["drums"] and state["takes"]["drums"]["sha256"] == kept_sha
    assert {state["takes"][t]["round"] for t in ("bass", "instrument", "melody")} == {3}
    on_disk = (tmp_path / "sessions" / sid / "session.json").read_text()
    assert '"index": 3' in on_disk
