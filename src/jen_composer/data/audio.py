"""Reading and writing stems: soundfile I/O, channel handling, resampling, loudness in dBFS.

torchaudio.load/save need torchcodec (absent), so all file I/O goes through soundfile.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from jen_composer.core.errors import DataError
from jen_composer.core.io import atomic_path

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")
EPS_POWER = 1e-20  # floor of mean-square power before taking dB (= -200 dBFS)


def power_db(power: np.ndarray | float) -> np.ndarray:
    """Mean-square power -> dBFS (a full-scale sine is about -3 dB)."""
    return 10.0 * np.log10(np.maximum(np.asarray(power, dtype=np.float64), EPS_POWER))


def rms_db(x: np.ndarray) -> float:
    """RMS level of a whole signal in dBFS."""
    return float(power_db(np.mean(np.square(x, dtype=np.float64)) if x.size else 0.0))


def to_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """[C, S] -> [channels, S]: mono is duplicated, multi-channel is averaged down to mono.

    Anything else (e.g. 6 -> 2) is ambiguous and refused rather than guessed.
    """
    have = x.shape[0]
    if have == channels:
        return x
    if channels == 1:
        return x.mean(axis=0, keepdims=True)
    if have == 1:
        return np.repeat(x, channels, axis=0)
    raise DataError(f"cannot map {have} audio channels onto {channels}; convert the file first")


def resample(x: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling of [C, S] (used by the converters, never silently by the loader)."""
    if orig_sr == target_sr:
        return x
    import torch
    import torchaudio.functional as AF

    y = AF.resample(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), orig_sr, target_sr)
    return y.numpy()


def audio_info(path: Path, song: str) -> sf._SoundFileInfo:
    """Header of an audio file; an unreadable file becomes a DataError naming song and file."""
    try:
        return sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError for corrupt headers
        raise DataError(f"song '{song}': cannot read {path}: {str(exc).splitlines()[0]}") from None


def read_audio(
    path: Path, song: str, start: int = 0, frames: int = -1, channels: int | None = None
) -> tuple[np.ndarray, int]:
    """Read ``frames`` samples from ``start`` as float32 ``[C, S]`` (partial reads are cheap for WAV/FLAC)."""
    try:
        data, sr = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    except Exception as exc:
        raise DataError(f"song '{song}': cannot read {path}: {str(exc).splitlines()[0]}") from None
    x = data.T
    if channels is not None:
        x = to_channels(x, channels)
    return np.ascontiguousarray(x), int(sr)


def load_resampled(path: Path, song: str, sample_rate: int, channels: int) -> np.ndarray:
    """Whole file at ``sample_rate`` with ``channels`` channels (converters and the renderer use this)."""
    x, sr = read_audio(path, song)
    return to_channels(resample(x, sr, sample_rate), channels).astype(np.float32)


def write_audio(path: str | os.PathLike[str], x: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> None:
    """Write ``[C, S]`` atomically; values are clipped to [-1, 1] so PCM never wraps around."""
    target = Path(path)
    data = np.clip(np.asarray(x, dtype=np.float32), -1.0, 1.0).T
    fmt = "FLAC" if target.suffix.lower() == ".flac" else "WAV"
    with atomic_path(target) as tmp:
        sf.write(str(tmp), data, sample_rate, subtype=subtype, format=fmt)


def find_audio(folder: Path, stem: str) -> Path | None:
    """``folder/stem.<ext>`` for the first supported extension that exists."""
    for ext in AUDIO_EXTENSIONS:
        candidate = folder / f"{stem}{ext}"
        if candidate.is_file():
            return candidate
    return None
