"""The seam benchmark's scoring can fail: a click burst at a seam leaves the inside-window range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from benchmarks.longform_seams import seam_png, seam_report
from jen_composer.core.config import RunConfig

SR = 16000


def _piece(seconds: float, burst_at: float | None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * SR)) / SR
    beat = (np.sin(2 * np.pi * 2.0 * t) > 0.95).astype(np.float32)  # a steady 120 bpm pulse
    drums = beat * rng.standard_normal(t.size).astype(np.float32) * 0.5
    stems = {"drums": drums, "bass": (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32),
             "melody": (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)}
    if burst_at is not None:  # clicks every 50 ms for one second: what a broken join could sound like
        for c in np.arange(burst_at - 0.5, burst_at + 0.5, 0.05):
            i = round(c * SR)
            stems["melody"][i:i + 40] += 0.8
    return stems


@pytest.mark.slow  # ~30 s of librosa scoring on the shared 2-core machine
def test_a_burst_at_a_seam_is_flagged_and_a_clean_seam_is_not(tmp_path: Path) -> None:
    ev = OmegaConf.structured(RunConfig).evaluation
    overlaps = [(7.0, 9.0)]
    clean = seam_report(_piece(12.0, None), SR, overlaps, ev, "drums")
    broken = seam_report(_piece(12.0, 8.0), SR, overlaps, ev, "drums")
    assert clean["onset density"]["within"] == 1 and clean["spectral flux"]["within"] == 1
    assert broken["onset density"]["within"] == 0 and broken["spectral flux"]["within"] == 0
    assert clean["onset density"]["inside"] >= 6  # segments that touch no overlap
    seam_png({t: w[None] for t, w in _piece(12.0, 8.0).items()}, SR, 8.0, tmp_path / "seam.png", "seam")
    assert (tmp_path / "seam.png").stat().st_size > 1000
