"""Coherence metrics rank a song's own stems above stems from another song or shifted in time."""

from __future__ import annotations

import numpy as np
import pytest

from jen_composer.metrics import coherence as c
from jen_composer.metrics.synthetic import shift, synth_song

SR = 16000
HARMONIC = ("bass", "instrument", "melody")


@pytest.fixture(scope="module")
def songs():
    a = synth_song(120, [0, 9, 5, 7], 6.0, sr=SR, seed=0)  # C Am F G
    b = synth_song(92, [2, 11, 6, 4], 6.0, sr=SR, seed=1)  # D Bm F# E, slower
    return a, b


def test_tempo_adherence_prefers_the_prompted_tempo(songs) -> None:
    a, b = songs
    mix_a = sum(a.stems.values())
    own = c.tempo_adherence(mix_a, SR, a.tempo, tolerance=0.05)
    other = c.tempo_adherence(mix_a, SR, b.tempo, tolerance=0.05)
    assert own["hit"] == 1.0 and other["hit"] == 0.0
    assert own["error"] < other["error"]
    assert c.tempo_error(60.0, 120.0) == 0.0  # half-tempo estimates are not punished
    assert c.parse_tempo("funky groove at 104 BPM") == 104.0 and c.parse_tempo("no tempo") is None


def test_beat_sync_matched_beats_shifted_and_foreign(songs) -> None:
    a, b = songs
    own = c.beat_sync(a.stems["drums"], [a.stems[k] for k in HARMONIC], SR)
    foreign = c.beat_sync(a.stems["drums"], [b.stems[k] for k in HARMONIC], SR)
    shifted = c.beat_sync(a.stems["drums"], [shift(a.stems[k], 0.125, SR) for k in HARMONIC], SR)
    assert own > 0.9
    assert own - foreign > 0.3 and own - shifted > 0.3


def test_onset_sync_edge_cases() -> None:
    assert np.isnan(c.onset_sync(np.array([0.5]), np.array([]), 0.05))
    assert np.isnan(c.onset_sync(np.array([]), np.array([0.1]), 0.05))  # silent drums: missing, not 0
    assert c.onset_sync(np.array([1.0]), np.array([1.02, 1.5]), 0.05) == 0.5


def test_chroma_and_key_agreement(songs) -> None:
    a, b = songs
    own = c.chroma_agreement(a.stems["instrument"], a.stems["bass"], SR)
    foreign = c.chroma_agreement(a.stems["instrument"], b.stems["bass"], SR)
    bar_late = c.chroma_agreement(a.stems["instrument"], shift(a.stems["bass"], 2.0, SR), SR)
    assert own - foreign > 0.15 and own - bar_late > 0.1
    key_own = c.key_agreement(a.stems["instrument"], a.stems["melody"], SR)
    key_foreign = c.key_agreement(a.stems["instrument"], b.stems["melody"], SR)
    assert key_own > 0.9 and key_own - key_foreign > 0.1


def test_bass_follows_chord_roots(songs) -> None:
    a, b = songs
    own = c.bass_chord_agreement(a.stems["bass"], SR, a.chords)
    foreign = c.bass_chord_agreement(b.stems["bass"], SR, a.chords)
    bar_late = c.bass_chord_agreement(shift(a.stems["bass"], 2.0, SR), SR, a.chords)
    assert own > 0.8 and own - foreign > 0.5 and own - bar_late > 0.5


def test_chord_label_formats() -> None:
    assert c.chord_segments([{"start": 0, "end": 2, "root": "Bb:min"}, [2, 4, "F#"], (4, 6, 14)]) == [
        (0.0, 2.0, 10), (2.0, 4.0, 6), (4.0, 6.0, 2)]
    with pytest.raises(ValueError, match="chord root"):
        c.pitch_class("H")


def test_onset_times_leave_out_the_clip_edges() -> None:
    """Stationary noise has no onset at its start: the padding-to-audio jump is not reported."""
    from jen_composer.metrics.coherence import edge_frames, onset_times

    sr = 16000
    noise = 0.1 * np.random.default_rng(0).standard_normal(2 * sr).astype(np.float32)
    times = onset_times(noise, sr)
    edge = edge_frames(512) * 512 / sr
    assert np.all(times >= edge) and np.all(times <= 2.0 - edge)
