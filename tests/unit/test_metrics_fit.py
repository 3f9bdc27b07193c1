"""Conditioning-fit scores rank a song's own generated tracks above wrong ones, and say "missing"
(NaN) rather than 0 when there is nothing to measure."""

from __future__ import annotations

import numpy as np
import pytest

from jen_composer.metrics import fit
from jen_composer.metrics.synthetic import shift, synth_song

SR = 16000
PITCHED = ("bass", "instrument", "melody")


@pytest.fixture(scope="module")
def songs():
    own = synth_song(120, [0, 9, 5, 7], 6.0, sr=SR, seed=0)  # C Am F G (labelled as major triads)
    tritone = synth_song(120, [6, 3, 11, 1], 6.0, sr=SR, seed=0)  # the same song a tritone up
    return own, tritone


def test_chord_tones_from_labels() -> None:
    assert fit.chord_tones("Am7") == (9, 0, 4, 7)
    assert fit.chord_tones("F#dim") == (6, 9, 0)
    assert fit.chord_tones("Bb:min") == (10, 1, 5)
    assert fit.chord_tones("Ebmaj7") == (3, 7, 10, 2)
    assert fit.chord_tones(2) == (2, 6, 9)  # a bare root is a major triad
    assert fit.chord_spans([{"start": 0, "end": 2, "chord": "C7"}, [2, 4, "G"]]) == [
        (0.0, 2.0, (0, 4, 7, 10)), (2.0, 4.0, (7, 11, 2))]
    with pytest.raises(ValueError, match="chord quality"):
        fit.chord_tones("Csus9")


def test_harmonic_fit_against_chord_labels(songs) -> None:
    own, tritone = songs
    for t in PITCHED:
        real = fit.harmonic_fit_chords(own.stems[t], SR, own.chords)
        wrong = fit.harmonic_fit_chords(tritone.stems[t], SR, own.chords)
        assert real > 0.6 and real - wrong > 0.3, t


def test_harmonic_fit_against_kept_stems(songs) -> None:
    own, tritone = songs
    kept = [own.stems["bass"], own.stems["instrument"]]
    real = fit.harmonic_fit_stems(own.stems["melody"], kept, SR)
    wrong = fit.harmonic_fit_stems(tritone.stems["melody"], kept, SR)
    assert real - wrong > 0.2


def test_rhythmic_fit_prefers_onsets_on_the_drums_and_the_beats(songs) -> None:
    own, _ = songs
    beats = np.arange(0, 6.0, 0.5)
    for t in PITCHED:
        half_beat = shift(own.stems[t], 0.25, SR)
        assert fit.rhythmic_fit_stems(own.stems[t], own.stems["drums"], SR) > 0.5, t
        assert fit.rhythmic_fit_stems(own.stems[t], own.stems["drums"], SR) - \
            fit.rhythmic_fit_stems(half_beat, own.stems["drums"], SR) > 0.5, t
        assert fit.rhythmic_fit_grid(own.stems[t], beats, SR) - fit.rhythmic_fit_grid(half_beat, beats, SR) > 0.5


def test_nothing_to_measure_is_nan_not_zero(songs) -> None:
    own, _ = songs
    silence = np.zeros_like(own.stems["drums"])
    hiss = (1e-4 * np.random.default_rng(0).standard_normal(len(silence))).astype(np.float32)  # -80 dBFS
    for quiet in (silence, hiss):
        assert np.isnan(fit.rhythmic_fit_stems(own.stems["bass"], quiet, SR))
        assert np.isnan(fit.rhythmic_fit_stems(quiet, own.stems["drums"], SR))
        assert np.isnan(fit.rhythmic_fit_grid(quiet, [0.0, 0.5], SR))
        assert np.isnan(fit.harmonic_fit_chords(quiet, SR, own.chords))
        assert np.isnan(fit.harmonic_fit_stems(own.stems["melody"], [quiet], SR))
    assert np.isnan(fit.harmonic_fit_chords(own.stems["bass"], SR, [(100.0, 101.0, "C")]))  # no labelled frame
    assert np.isnan(fit.rhythmic_fit_grid(own.stems["bass"], [], SR))


def test_independent_stationary_noises_have_no_rhythmic_fit() -> None:
    """Known answer: two independent noises share no onsets. Before the edge frames were dropped, the
    jump from padding into audio at every clip's start made them correlate at ~0.74."""
    from jen_composer.metrics.fit import rhythmic_fit_stems

    rng = np.random.default_rng(0)
    sr = 16000
    values = [rhythmic_fit_stems(0.1 * rng.standard_normal(4 * sr).astype(np.float32),
                                 0.1 * rng.standard_normal(4 * sr).astype(np.float32), sr) for _ in range(12)]
    assert abs(float(np.mean(values))) < 0.1


def test_noise_has_no_fit_to_a_beat_grid_that_starts_at_zero() -> None:
    from jen_composer.metrics.fit import rhythmic_fit_grid

    rng = np.random.default_rng(1)
    sr = 16000
    beats = list(np.arange(0.0, 4.0, 0.5))  # the first beat sits on the clip's edge
    values = [rhythmic_fit_grid(0.1 * rng.standard_normal(4 * sr).astype(np.float32), beats, sr) for _ in range(40)]
    assert abs(float(np.mean(values))) < 0.15  # single clips spread by ~0.27 around 0
