"""The validation table's verdict: a score is valid only when it separates every control it is built for."""

from __future__ import annotations

from jen_composer.metrics.controls import CONTROLS, DESIGNED_FOR
from jen_composer.metrics.validation_report import validation_markdown, verdict


def _row(score: str, separated: set[str]) -> dict:
    row = {"score": score, "real": 0.7, "songs": 50}
    for c in CONTROLS:
        low = 0.01 if c in separated else -0.02
        row[c] = {"mean": 0.5, "diff": low + 0.03, "low": low, "high": low + 0.06, "pairs": 50}
    return row


def test_pitch_score_needs_pitch_controls_only() -> None:
    assert DESIGNED_FOR["harmonic_chords"] == {"tritone", "foreign", "noise"}
    assert verdict(_row("harmonic_chords", {"tritone", "foreign", "noise"})) == "valid"
    assert verdict(_row("harmonic_chords", {"tritone", "noise"})) == "NOT valid: other song, same tempo"


def test_onset_score_needs_time_controls_only() -> None:
    assert verdict(_row("rhythm_grid", {"half_beat", "noise"})) == "valid"
    assert verdict(_row("rhythm_grid", {"tritone", "foreign", "noise"})).startswith("NOT valid: half a beat late")


def test_fad_row_name_carries_its_embedding_and_unknown_scores_require_nothing() -> None:
    assert verdict(_row("fad_mix (probe embedding)", {"noise"})).startswith("NOT valid")
    assert verdict(_row("some_new_score", set())) == "no required controls"


def test_markdown_marks_cells_that_are_not_required() -> None:
    meta = {"songs": 50, "data": "d", "seconds_per_song": 4, "bootstrap": 10, "probe": None,
            "pitch_tracker": "chroma", "wall_seconds": 1.0, "kept": {"joint": []}}
    text = validation_markdown({"joint": [_row("rhythm_grid", {"half_beat", "noise"})]}, meta)
    line = next(ln for ln in text.splitlines() if ln.startswith("| rhythm_grid"))
    assert line.count("(not required)") == 2 and line.endswith("| valid |")
