"""`evaluate-audio` on unusable clips: one DataError naming the clip and file, not a librosa/torch traceback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.errors import DataError
from jen_composer.metrics.evaluate_audio import evaluate_audio_folder

TRACKS = ["bass", "drums", "instrument", "melody"]


class NoScorer:
    """Never reached: the clip must be refused while loading."""

    def embed_audio(self, wave, sample_rate):  # type: ignore[no-untyped-def]
        raise AssertionError("bad audio reached the scorer")

    def embed_text(self, texts):  # type: ignore[no-untyped-def]
        raise AssertionError("bad audio reached the scorer")


def _nan(n: int) -> np.ndarray:
    x = 0.1 * np.ones(n, np.float32)
    x[50] = np.nan
    return x


@pytest.mark.parametrize("melody, message", [
    (lambda n: np.zeros(0, np.float32), r"song 'c1': .*melody\.wav holds no audio \(0 samples\)"),
    (_nan, r"song 'c1': .*melody\.wav contains NaN or inf samples \(1 of"),
])
def test_unusable_clip_is_one_line(tmp_path: Path, melody, message: str) -> None:  # type: ignore[no-untyped-def]
    sr = EvaluationConfig().coherence.sample_rate
    clip = tmp_path / "gen" / "c1"
    clip.mkdir(parents=True)
    for t in TRACKS:
        x = melody(sr) if t == "melody" else 0.1 * np.ones(sr, np.float32)
        sf.write(clip / f"{t}.wav", x, sr, subtype="FLOAT")
    (tmp_path / "prompts.json").write_text(json.dumps({"c1": "a song"}))
    with pytest.raises(DataError, match=message) as info:
        evaluate_audio_folder(tmp_path / "gen", tmp_path / "prompts.json", EvaluationConfig(), TRACKS,
                              scorer=NoScorer(), progress=False)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
