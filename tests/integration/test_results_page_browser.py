"""The demo's results page, opened from disk in headless Chromium: every player and picture loads."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from jen_composer.inference.stems_io import write_stems
from jen_composer.workflows.results_page import PageSection, score_table, write_results_page

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
sync_api = pytest.importorskip("playwright.sync_api")
SR = 8000


def _section(root: Path, name: str, kept: set[str]) -> PageSection:
    t = np.arange(SR) / SR
    stems = {track: (0.2 * np.sin(2 * np.pi * f * t))[None].astype(np.float32)
             for track, f in (("drums", 90), ("bass", 110), ("instrument", 330), ("melody", 660))}
    files = write_stems(root / "samples" / name, stems, SR, kept, title=name)
    audio = {k: v for k, v in files.items() if k != "spectrogram"}
    roles = {t: "kept" if t in kept else "generated" for t in stems}
    return PageSection(name, name, f"{name} sample", audio, files["spectrogram"], roles)


def test_results_page_loads_every_player_and_image(tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the browser test cannot run")
    sections = [_section(tmp_path, "joint", set()), _section(tmp_path, "given drums + bass", {"drums", "bass"})]
    rows = [{"track": "melody", "score": "harmonic fit (chords)", "generated": 0.61, "control: tritone": 0.22},
            {"track": "instrument", "score": "rhythmic fit (drums)", "generated": float("nan"), "control: tritone": 0.1}]
    page = write_results_page(tmp_path / "demo" / "index.html", "demo <results>", sections, score_table(rows),
                              {"machine": "test"})
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        tab = browser.new_page()
        tab.goto(page.resolve().as_uri())
        tab.wait_for_function("[...document.querySelectorAll('audio')].every(a => a.readyState >= 1 || a.error)",
                              timeout=30000)
        audio = tab.evaluate("[...document.querySelectorAll('audio')].map(a => [a.error ? a.error.code : 0, a.duration])")
        images = tab.evaluate("[...document.querySelectorAll('img')].map(i => [i.complete, i.naturalWidth])")
        cells = tab.evaluate("[...document.querySelectorAll('[data-testid=scores] td')].map(c => c.textContent)")
        title = tab.title()
        browser.close()
    assert len(audio) == 2 * 5  # 4 stems + mix per sample
    assert all(code == 0 and abs(duration - 1.0) < 0.01 for code, duration in audio), audio
    assert len(images) == 2 and all(ok and width > 300 for ok, width in images), images
    assert cells[:4] == ["melody", "harmonic fit (chords)", "0.610", "0.220"] and "missing" in cells
    assert title == "demo <results>"


def test_a_missing_file_is_seen_as_an_error(tmp_path: Path) -> None:
    """The check above can fail: a player whose file is gone reports an error in the browser."""
    section = _section(tmp_path, "joint", set())
    section.audio["mix"].unlink()
    page = write_results_page(tmp_path / "index.html", "broken", [section])
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        tab = browser.new_page()
        tab.goto(page.resolve().as_uri())
        tab.wait_for_function("[...document.querySelectorAll('audio')].every(a => a.readyState >= 1 || a.error)",
                              timeout=30000)
        errors = tab.evaluate("[...document.querySelectorAll('audio')].filter(a => a.error).length")
        browser.close()
    assert errors == 1
