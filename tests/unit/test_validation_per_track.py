"""Per-track validation rows: a score valid on the tracks pooled can be invalid on one of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from jen_composer.metrics.validation import CONTROLS, paired_rows
from jen_composer.metrics.validation_report import validity_record

ROOT = Path(__file__).resolve().parents[2]


def per_song(songs: int = 30) -> dict[str, list[dict[str, float]]]:
    """rhythm_grid: the melody's real value is far above every control, the instrument's is not."""
    rng = np.random.default_rng(0)
    out: dict[str, list[dict[str, float]]] = {}
    for c in ("real", *CONTROLS):
        rows = []
        for _ in range(songs):
            melody = (0.5 if c == "real" else 0.0) + 0.01 * rng.standard_normal()
            instrument = 0.05 * rng.standard_normal()
            rows.append({"rhythm_grid": (melody + instrument) / 2, "rhythm_grid/melody": melody,
                         "rhythm_grid/instrument": instrument})
        out[c] = rows
    return out


def test_pooled_and_per_track_rows_and_the_validity_record() -> None:
    scores = per_song()
    pooled = paired_rows(scores, 500, 0)
    tracks = paired_rows(scores, 500, 0, per_track=True)
    assert [r["score"] for r in pooled] == ["rhythm_grid"]
    assert [r["score"] for r in tracks] == ["rhythm_grid/instrument", "rhythm_grid/melody"]
    record = validity_record({"conditional": tracks}, {"songs": 30, "data": "x", "seconds_per_song": 4.096})
    assert record["valid"]["conditional"] == {"rhythm_grid/instrument": False, "rhythm_grid/melody": True}
    assert validity_record({"conditional": pooled}, {"songs": 30, "data": "x", "seconds_per_song": 4})["valid"][
        "conditional"] == {"rhythm_grid": True}  # pooled, the instrument's emptiness is hidden


def test_the_script_derives_the_record_from_an_old_runs_per_song_scores(tmp_path: Path) -> None:
    src = tmp_path / "validation.json"
    src.write_text(json.dumps({"meta": {"songs": 30, "data": "x", "seconds_per_song": 4.096, "bootstrap": 500},
                               "per_song": {"conditional": per_song()}}))
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "score_validity.py"), str(src), str(tmp_path / "v.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "v.json").read_text())["valid"]["conditional"]["rhythm_grid/instrument"] is False
    assert "| rhythm_grid/melody |" in done.stdout
    bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "score_validity.py"), str(tmp_path / "v.json"),
                          str(tmp_path / "w.json")], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "not a validate-scores validation.json" in bad.stderr and "Traceback" not in bad.stderr
