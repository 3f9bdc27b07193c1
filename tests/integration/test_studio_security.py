"""The studio refuses foreign Hosts (DNS rebinding) and cross-site writes (CSRF); uploads stream under the limit."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.io import writer_token
from jen_composer.studio.app import create_app
from jen_composer.studio.security import check_request
from jen_composer.studio.server import start_in_thread
from tests.fakes import FakeEngine

PORT = 7860
LOCAL = f"http://127.0.0.1:{PORT}"


def _app(tmp_path: Path, host: str = "127.0.0.1", max_upload_mb: float = 1.0):  # type: ignore[no-untyped-def]
    cfg = CompositionConfig(seconds=1.0)
    cfg.studio.host, cfg.studio.max_upload_mb = host, max_upload_mb
    return create_app(FakeEngine(), cfg, tmp_path / "sessions")


def _wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(np.arange(22050) / 10), 22050, format="WAV")
    return buf.getvalue()


@pytest.mark.parametrize("host", ["evil.com", f"evil.com:{PORT}", "127.0.0.1.evil.com", f"localhost:{PORT + 1}",
                                  "127.0.0.2", "0.0.0.0", "", f"127.0.0.1:{PORT}@evil.com"])
def test_foreign_host_gets_no_session_ids(tmp_path: Path, host: str) -> None:
    c = TestClient(_app(tmp_path), base_url=LOCAL)
    sid = c.post("/api/sessions", json={"prompt": "piano"}).json()["id"]
    for path in ("/api/config", f"/api/sessions/{sid}", "/"):
        res = c.get(path, headers={"Host": host})
        assert res.status_code == 403 and "is not allowed" in res.json()["detail"], (path, res.text)
        assert sid not in res.text


@pytest.mark.parametrize("host", ["127.0.0.1", f"127.0.0.1:{PORT}", f"localhost:{PORT}", "LOCALHOST", f"[::1]:{PORT}"])
def test_loopback_hosts_are_served(tmp_path: Path, host: str) -> None:
    c = TestClient(_app(tmp_path), base_url=LOCAL)
    assert c.get("/api/config", headers={"Host": host}).status_code == 200


def test_the_host_given_with_dash_dash_host_is_served(tmp_path: Path) -> None:
    c = TestClient(_app(tmp_path, host="studio.lan"), base_url=LOCAL)
    assert c.get("/api/config", headers={"Host": f"studio.lan:{PORT}"}).status_code == 200
    assert c.get("/api/config", headers={"Host": f"other.lan:{PORT}"}).status_code == 403


def test_cross_site_writes_are_refused(tmp_path: Path) -> None:
    c = TestClient(_app(tmp_path), base_url=LOCAL)
    sid = c.post("/api/sessions", json={"prompt": "piano"}).json()["id"]
    before = c.get(f"/api/sessions/{sid}").json()
    foreign = [{"Origin": "https://evil.com"}, {"Origin": "null"}, {"Origin": f"http://localhost:{PORT + 1}"},
               {"Origin": f"http://127.0.0.1.evil.com:{PORT}"}, {"Sec-Fetch-Site": "cross-site"},
               {"Sec-Fetch-Site": "same-site"}]
    for headers in foreign:
        up = c.post(f"/api/sessions/{sid}/import/bass", files={"file": ("a.wav", _wav(), "audio/wav")}, headers=headers)
        assert up.status_code == 403 and "cross-site request refused" in up.json()["detail"], (headers, up.text)
        assert c.post("/api/sessions", json={"prompt": "x"}, headers=headers).status_code == 403
        assert c.post(f"/api/sessions/{sid}/prompt", json={"prompt": "pwned"}, headers=headers).status_code == 403
        assert c.post(f"/api/sessions/{sid}/generate", json={"mode": "all"}, headers=headers).status_code == 403
    assert c.get(f"/api/sessions/{sid}").json() == before
    assert not (tmp_path / "sessions" / sid / "imports").exists()
    own = {"Origin": LOCAL, "Sec-Fetch-Site": "same-origin"}
    up = c.post(f"/api/sessions/{sid}/import/bass", files={"file": ("a.wav", _wav(), "audio/wav")}, headers=own)
    assert up.status_code == 200, up.text


def test_check_request_rules() -> None:
    hosts = frozenset({"127.0.0.1", "localhost", "::1"})
    assert check_request("GET", {"host": "localhost:80"}, hosts, 80) == ""
    assert check_request("POST", {"host": "localhost:80"}, hosts, 80) == ""  # curl: no Origin, no Sec-Fetch-Site
    assert check_request("POST", {"host": "localhost:80", "sec-fetch-site": "none"}, hosts, 80) == ""
    assert "cross-site" in check_request("DELETE", {"host": "localhost:80", "origin": "http://a.b"}, hosts, 80)
    assert "not allowed" in check_request("GET", {"host": "localhost:81"}, hosts, 80)
    assert "not allowed" in check_request("GET", {"host": "localhost:x"}, hosts, 80)


def _chunked_upload_without_end(url: str, sid: str, megabytes: int) -> bytes:
    """Send ``megabytes`` of a chunked multipart upload (no Content-Length), never finish it, read the reply.

    A server that waits for the whole body before judging its size never answers (the read times out).
    """
    host, port = url.removeprefix("http://").split(":")
    boundary = "XyZ"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode()
    request = (f"POST /api/sessions/{sid}/import/bass HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"\0" * 65536
    reply = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(request + b"%x\r\n%s\r\n" % (len(head), head))
            for _ in range(megabytes * 16):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            while not reply.rstrip().endswith(b"}"):
                part = sock.recv(65536)
                if not part:
                    break
                reply += part
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
    return reply


def test_chunked_upload_is_refused_while_streaming(tmp_path: Path) -> None:
    server, thread, url = start_in_thread(_app(tmp_path, max_upload_mb=1.0))
    try:
        c = TestClient(_app(tmp_path), base_url=LOCAL)  # same sessions folder: make a session directly
        sid = c.post("/api/sessions", json={"prompt": "piano"}).json()["id"]
        reply = _chunked_upload_without_end(url, sid, megabytes=3)  # limit 1 MB
        assert reply.startswith(b"HTTP/1.1 413") and b"too large" in reply, reply[:300]
        assert not (tmp_path / "sessions" / sid / "imports").exists()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_temp_files_of_a_killed_studio_are_removed_on_open(tmp_path: Path) -> None:
    c = TestClient(_app(tmp_path), base_url=LOCAL)
    sid = c.post("/api/sessions", json={"prompt": "piano"}).json()["id"]
    dead_pid = 2**22 + 12345  # above pid_max on Linux: never a live process
    litter = tmp_path / "sessions" / sid / f".session.json.{writer_token(dead_pid)}.k3j2h1.tmp"
    litter.write_text("half")
    fresh = TestClient(_app(tmp_path), base_url=LOCAL)  # a restarted studio
    assert fresh.get(f"/api/sessions/{sid}").status_code == 200
    assert not litter.exists()
