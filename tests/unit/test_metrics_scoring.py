"""The one scoring path: generated tracks only, missing (not 0) when nothing can be measured, and the
evaluation config actually steers it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.errors import ConfigError
from jen_composer.metrics.clip_scores import ClipAudio, clip_scores
from jen_composer.metrics.report import markdown_table
from jen_composer.metrics.scoring import Scorer
from jen_composer.metrics.synthetic import synth_song

SR = 16000
TRACKS = ["bass", "drums", "instrument", "melody"]


@pytest.fixture(scope="module")
def song():
    s = synth_song(120, [0, 9, 5, 7], 4.0, sr=SR, seed=0)
    labels = {"tempo": 120, "chords": s.chords, "beats": list(np.arange(0, 4.0, 0.5))}
    return s, labels


def _cfg(**fad) -> EvaluationConfig:
    cfg = EvaluationConfig()
    cfg.clap.backend = "none"  # no CLAP column: the weight-free scores are under test
    cfg.fad.embedding = fad.get("embedding", "mel")
    return cfg


def test_kept_tracks_are_never_the_scored_side(song) -> None:
    s, labels = song
    clip = ClipAudio("a", dict(s.stems), "pop", labels, frozenset({"instrument", "melody"}))
    out = clip_scores(clip, EvaluationConfig())
    scored = {k.split("/")[1] for k in out if "/" in k}
    assert scored == {"instrument", "melody"}
    assert "bass_chord_agreement" not in out  # the bass was given, not generated
    assert out["harmonic_chords"] > 0.6 and out["rhythm_drums"] > 0.3 and out["harmonic_stems"] > 0.4
    joint = clip_scores(ClipAudio("a", dict(s.stems), "pop", labels), EvaluationConfig())
    assert joint["bass_chord_agreement"] > 0.8 and "harmonic_stems" not in joint and "rhythm_drums" not in joint
    assert "rhythm_grid/drums" in joint and "harmonic_chords/drums" not in joint


def test_silent_drums_give_missing_not_zero(song) -> None:
    s, labels = song
    stems = {**s.stems, "drums": np.zeros_like(s.stems["drums"])}
    out = clip_scores(ClipAudio("a", stems, "pop", labels, frozenset({"bass", "instrument", "melody"})),
                      EvaluationConfig())
    assert math.isnan(out["beat_sync"]) and math.isnan(out["rhythm_drums"])
    silent = {t: np.zeros_like(w) for t, w in s.stems.items()}
    gen = clip_scores(ClipAudio("b", silent, "pop", labels), EvaluationConfig())
    assert all(math.isnan(v) for v in gen.values())


def test_config_steers_the_scores(song) -> None:
    s, labels = song
    clip = ClipAudio("a", dict(s.stems), "pop", labels, frozenset({"melody"}))
    cfg = EvaluationConfig()
    base = clip_scores(clip, cfg)["rhythm_drums"]
    cfg.coherence.drums_track = "bass"  # now the bass is the rhythm reference and drums count as pitched
    moved = clip_scores(clip, cfg)
    assert moved["rhythm_drums"] != base and "harmonic_chords/melody" in moved
    cfg = EvaluationConfig()
    cfg.fit.silence_db = 0.0  # nothing is louder than 0 dBFS: every fit score is missing
    assert all(math.isnan(clip_scores(clip, cfg)[k]) for k in ("harmonic_chords", "rhythm_grid", "rhythm_drums"))


def test_scorer_row_fad_and_table(song) -> None:
    s, labels = song
    other = synth_song(96, [2, 11, 7, 4], 4.0, sr=SR, seed=1)
    ref = [ClipAudio(f"r{i}", dict(x.stems), "", {}) for i, x in enumerate((s, other))]
    scorer = Scorer(_cfg(), TRACKS, reference=ref)
    assert scorer.clap is None
    for x in (s, other):
        scorer.add(ClipAudio("c", dict(x.stems), "pop", labels, frozenset({"melody"})))
    row = scorer.result("cond", task="conditional", seeds=[0])
    assert set(row.fad) == {"melody", "mix"}  # only generated tracks get a per-track FAD
    assert row.fad["mix"]["fad"] == pytest.approx(0.0, abs=1e-3)  # the same set as the reference
    assert row.clips == 2 and 0.0 < row.coherence["harmonic_chords"] <= 1.0
    table = markdown_table([row], TRACKS)
    assert "Harm-chords" in table and "Rhythm-drums" in table
    with pytest.raises(ConfigError, match="fad.embedding"):
        Scorer(_cfg(embedding="vggish"), TRACKS)
    with pytest.raises(ConfigError, match="probe.path"):
        Scorer(_cfg(embedding="probe"), TRACKS)
