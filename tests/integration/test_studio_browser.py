"""End to end in headless Chromium: generate, keep, regenerate, import, undo, export, bad upload."""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.core.config.composition import CompositionConfig
from jen_composer.studio.app import create_app
from jen_composer.studio.server import start_in_thread
from tests.fakes import FakeEngine

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[str]:
    cfg = CompositionConfig(seconds=1.0)
    server, thread, url = start_in_thread(create_app(FakeEngine(step_delay=0.01), cfg, tmp_path / "sessions"))
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def _state(url: str, sid: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/sessions/{sid}") as res:
        return json.loads(res.read())


def _wait_jobs(page, n: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(f"Number(document.body.dataset.jobs || 0) >= {n}", timeout=30000)


def test_browser_session(studio: str, tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the browser test cannot run")
    lead = tmp_path / "lead.wav"
    t = np.arange(33075) / 22050
    sf.write(lead, 0.3 * np.sin(2 * np.pi * 330 * t), 22050)
    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(accept_downloads=True)
        page.goto(studio)
        page.wait_for_function("document.body.dataset.ready === '1'")
        page.fill("[data-testid=prompt]", "warm lofi beat with rhodes")
        page.click("[data-testid=generate-all]")
        _wait_jobs(page, 1)
        sid = page.evaluate("document.body.dataset.session")
        first = _state(studio, sid)
        assert len(first["takes"]) == 4
        assert page.get_attribute("[data-testid=track-drums]", "data-sha256") == first["takes"]["drums"]["sha256"]

        page.check("[data-testid=track-drums] .keep")
        page.wait_for_function("document.querySelector('[data-testid=track-drums]').classList.contains('kept')")
        page.click("[data-testid=regenerate]")
        _wait_jobs(page, 2)
        second = _state(studio, sid)
        assert second["kept"] == ["drums"]
        assert second["takes"]["drums"]["sha256"] == first["takes"]["drums"]["sha256"]
        assert second["takes"]["bass"]["sha256"] != first["takes"]["bass"]["sha256"]

        page.set_input_files("[data-testid=track-melody] .import", str(corrupt))
        page.wait_for_function("document.querySelector('[data-testid=message]').textContent.includes('import failed')")
        assert "not a readable audio file" in page.text_content("[data-testid=message]")
        assert _state(studio, sid)["takes"] == second["takes"]

        page.set_input_files("[data-testid=track-melody] .import", str(lead))
        page.wait_for_function("document.querySelector('[data-testid=message]').textContent.includes('imported')")
        assert _state(studio, sid)["kept"] == ["drums", "melody"]
        page.click("[data-testid=regenerate]")
        _wait_jobs(page, 3)
        third = _state(studio, sid)
        assert third["rounds"][-1]["generated"] == ["bass", "instrument"]
        page.click("[data-testid=undo]")
        page.wait_for_function(f"document.querySelectorAll('#history li').length === {len(third['rounds']) + 1}")
        after_undo = _state(studio, sid)
        assert after_undo["takes"]["bass"] == second["takes"]["bass"]

        with page.expect_download() as info:
            page.click("[data-testid=export]")
        path = info.value.path()
        with zipfile.ZipFile(path) as zf:
            for track, take in after_undo["takes"].items():
                data = zf.read(f"stems/{track}.wav")
                assert hashlib.sha256(data).hexdigest() == take["sha256"]
                assert sf.info(io.BytesIO(data)).frames == 16000
            assert json.loads(zf.read("session.json"))["kept"] == ["drums", "melody"]
        browser.close()
