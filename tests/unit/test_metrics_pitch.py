"""torchcrepe pitch against chord labels: a known-answer bass and melody score high, a tritone low."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jen_composer.metrics.pitch import crepe_chord_fit
from jen_composer.metrics.synthetic import synth_song

SR = 16000


def test_crepe_chord_fit_known_answer() -> None:
    pytest.importorskip("torchcrepe")
    own = synth_song(120, [0, 9], 2.0, sr=SR, seed=0)
    up = synth_song(120, [6, 3], 2.0, sr=SR, seed=0)  # the same parts a tritone up
    for track in ("bass", "melody"):
        real = crepe_chord_fit(own.stems[track], SR, own.chords)
        wrong = crepe_chord_fit(up.stems[track], SR, own.chords)
        assert real > 0.8 and real - wrong > 0.5, track
    assert math.isnan(crepe_chord_fit(np.zeros(SR, np.float32), SR, own.chords))
