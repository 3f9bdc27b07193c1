"""Importing a user's file: every unusable file is one clear DataError; good files are conditioned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.composition.importer import load_user_audio, sanitize_filename
from jen_composer.core.config.composition import ImportConfig
from jen_composer.core.errors import CheckpointError, DataError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import load_engine
from tests.fakes import FakeEngine

KW = dict(sample_rate=16000, channels=1, num_samples=16000, reference_db=None, cfg=ImportConfig())


def _wav(path: Path, data: np.ndarray, sr: int = 16000, subtype: str = "FLOAT") -> Path:
    sf.write(path, data, sr, subtype=subtype)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"RIFF\x00\x00garbage" * 10), "not a readable audio file"),
        (lambda p: _wav(p, np.zeros((0, 1), np.float32)), "no audio samples"),
        (lambda p: _wav(p, np.zeros((16000, 1), np.float32)), "silent"),
        (lambda p: _wav(p, np.full((16000, 1), np.nan, np.float32)), "NaN"),
        (lambda p: _wav(p, np.full((800, 1), 0.3, np.float32)), "too short"),
    ],
)
def test_unusable_files(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(DataError, match=message) as exc:
        load_user_audio(path, name="bad.wav", **KW)  # type: ignore[arg-type]
    assert str(exc.value).startswith("bad.wav: ") and "\n" not in str(exc.value)
    with pytest.raises(DataError, match=message):
        load_user_audio(path.read_bytes(), name="bad.wav", **KW)  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_user_audio(tmp_path / "nope.wav", name="nope.wav", **KW)  # type: ignore[arg-type]


def test_resample_channels_length_loudness(tmp_path: Path) -> None:
    t = np.arange(44100 * 2) / 44100
    stereo = np.stack([0.9 * np.sin(2 * np.pi * 220 * t), 0.9 * np.sin(2 * np.pi * 220 * t)], axis=1)
    path = _wav(tmp_path / "x.flac", stereo, 44100, subtype="PCM_16")
    out = load_user_audio(path, name="x.flac", **{**KW, "reference_db": -30.0})  # type: ignore[arg-type]
    assert out.shape == (1, 16000) and out.dtype == np.float32
    assert abs(20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2))) + 30.0) < 0.1
    short = _wav(tmp_path / "s.wav", 0.5 * np.sin(2 * np.pi * 220 * t[:30000, None]), 44100)
    padded = load_user_audio(short, name="s.wav", **{**KW, "channels": 2})  # type: ignore[arg-type]
    assert padded.shape == (2, 16000) and np.all(padded[:, 11000:] == 0) and np.abs(padded).max() <= 0.99


@pytest.mark.parametrize(
    "name, safe",
    [("../../etc/passwd", "passwd"), ("..\\..\\win.ini", "win.ini"), ("/abs/x.wav", "x.wav"),
     ("..", "upload"), (".hidden.wav", "hidden.wav"), ("a b;rm -rf.wav", "a_b_rm_-rf.wav"), ("", "upload")],
)
def test_sanitize_filename(name: str, safe: str) -> None:
    assert sanitize_filename(name) == safe


def test_fake_engine_is_deterministic_and_reports_progress() -> None:
    kw = dict(seconds=0.5, seed=3, settings=SamplerSettings(name="ddim", steps=4, text_guidance=3.0, stem_guidance=1.0))
    seen: list[tuple[int, int]] = []
    a = FakeEngine().generate("p", {}, ["bass", "drums"], progress=lambda i, n: seen.append((i, n)), **kw)
    b = FakeEngine().generate("p", {}, ["bass", "drums"], **kw)
    c = FakeEngine().generate("q", {}, ["bass", "drums"], **kw)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(np.array_equal(a[t], b[t]) for t in a) and not np.array_equal(a["bass"], c["bass"])
    assert a["bass"].shape == (1, 8000) and a["bass"].dtype == np.float32


def test_load_engine(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_engine(str(tmp_path / "missing.ckpt"))
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_engine(str(junk))
