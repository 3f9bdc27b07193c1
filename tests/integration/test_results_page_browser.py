"""The results page writer, opened from disk in headless Chromium: every player and picture loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jen_composer.inference.stems_io import write_stems
from jen_composer.workflows.results_page import PageSection, score_table, write_results_page
from tests.helpers import page_media

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
    sections = [_section(tmp_path, "joint", set()), _section(tmp_path, "given drums + bass", {"drums", "bass"})]
    rows = [{"track": "melody", "score": "harmonic fit (chords)", "generated": 0.61, "control: tritone": 0.22},
            {"track": "instrument", "score": "rhythmic fit (drums)", "generated": float("nan"), "control: tritone": 0.1}]
    page = write_results_page(tmp_path / "demo" / "index.html", "demo <results>", sections, score_table(rows),
                              {"machine": "test"})
    seen = page_media(page)
    assert len(seen["audio"]) == 2 * 5  # 4 stems + mix per sample
    assert all(code == 0 and abs(duration - 1.0) < 0.01 for code, duration in seen["audio"]), seen["audio"]
    assert len(seen["images"]) == 2 and all(ok and width > 300 for ok, width in seen["images"]), seen["images"]
    assert seen["cells"][:4] == ["melody", "harmonic fit (chords)", "0.610", "0.220"] and "missing" in seen["cells"]
    assert seen["title"] == ["demo <results>"]


def test_a_missing_file_is_seen_as_an_error(tmp_path: Path) -> None:
    """The check above can fail: a player whose file is gone reports an error in the browser."""
    section = _section(tmp_path, "joint", set())
    section.audio["mix"].unlink()
    seen = page_media(write_results_page(tmp_path / "index.html", "broken", [section]))
    assert sum(code != 0 for code, _ in seen["audio"]) == 1
