"""`validate-scores` on rendered songs: the known answers come out (a tritone moves the harmonic
score, not the onset score; noise moves both) and the table carries a verdict per score."""

from __future__ import annotations

import json
from pathlib import Path

from jen_composer.core.config import compose
from jen_composer.metrics.validation import validate_scores


def test_validate_scores_on_rendered_songs(tiny_songs: Path, tmp_path: Path) -> None:
    cfg = compose(None, ["data.test_fraction=0.5", "data.val_fraction=0.0"])
    out = validate_scores(tiny_songs, tmp_path, cfg.evaluation, cfg.data, bootstrap=100, seconds=3.0)
    result = json.loads(out["json"].read_text())
    assert result["meta"]["songs"] == 3
    rows = {r["score"]: r for r in result["rows"]["joint"]}
    harmonic, rhythm = rows["harmonic_chords"], rows["rhythm_grid"]
    assert harmonic["tritone"]["diff"] > 0.2  # wrong pitch classes: the harmonic score drops a lot
    assert abs(rhythm["tritone"]["diff"]) < 0.05  # same onsets: the onset score barely moves
    assert harmonic["noise"]["diff"] > 0.1
    text = out["markdown"].read_text()
    assert "| harmonic_chords |" in text and "verdict" in text
    # per generated track too: the rows, their table, and the record the demo reads
    tracks = {r["score"] for r in result["per_track"]["conditional"]}
    assert {"rhythm_grid/instrument", "rhythm_grid/melody", "harmonic_chords/melody"} <= tracks
    assert "#### conditional, each generated track alone" in text and "| rhythm_grid/melody |" in text
    validity = json.loads(out["validity"].read_text())["valid"]
    assert set(validity["conditional"]) == tracks and all(isinstance(v, bool) for v in validity["conditional"].values())
