"""Every audio writer either keeps a loud signal (float files) or scales it down: none clips it silently."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.composition.audio import wav_bytes
from jen_composer.core.errors import DataError
from jen_composer.data.audio import fit_peak, write_audio
from jen_composer.inference.stems_io import write_stems

SR = 8000


def _loud(peak: float = 1.52) -> np.ndarray:
    return (peak * np.sin(2 * np.pi * 220 * np.arange(SR) / SR)).astype(np.float32)[None]


def test_write_audio_refuses_to_clip_pcm(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"bass\.wav: peak 1\.520 is above full scale and would clip"):
        write_audio(tmp_path / "bass.wav", _loud(), SR)
    assert not (tmp_path / "bass.wav").exists()
    write_audio(tmp_path / "bass.wav", fit_peak(_loud())[0], SR)
    assert np.abs(sf.read(tmp_path / "bass.wav")[0]).max() == pytest.approx(0.99, abs=1e-3)


def test_write_audio_refuses_nan(tmp_path: Path) -> None:
    x = _loud(0.5)
    x[0, 7] = np.nan
    with pytest.raises(DataError, match=r"cannot write a\.wav: contains NaN or inf samples \(1 of 8000"):
        write_audio(tmp_path / "a.wav", x, SR)


def test_generated_stems_keep_their_peaks(tmp_path: Path) -> None:
    paths = write_stems(tmp_path, {"bass": _loud()[0], "melody": 0.5 * _loud()[0]}, SR)
    bass = sf.read(paths["bass"])[0]
    assert np.abs(bass).max() == pytest.approx(1.52, abs=1e-3)  # PCM_16 would have clipped at 1.0
    assert np.abs(sf.read(paths["mix"])[0]).max() <= 0.99 + 1e-4


def test_browser_playback_is_scaled_not_clipped() -> None:
    played = sf.read(io.BytesIO(wav_bytes(_loud(), SR)))[0]
    assert np.sum(np.abs(played) >= 32767 / 32768) <= 2  # clipping would flatten ~27% of every cycle
    assert np.corrcoef(played, _loud()[0])[0, 1] > 0.9999
