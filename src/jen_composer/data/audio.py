"""Reading and writing stems: soundfile I/O, channel handling, resampling, loudness in dBFS.

torchaudio.load/save need torchcodec (absent), so all file I/O goes through soundfile. Every read
refuses empty and non-finite audio by file name; every write refuses audio that PCM would clip
(callers gain-stage first, ``fit_peak``), so nothing here changes a signal silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from jen_composer.core.errors import DataError, one_line
from jen_composer.core.io import atomic_path

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")
EPS_POWER = 1e-20  # floor of mean-square power before taking dB (= -200 dBFS)
SAFE_PEAK = 0.99  # gain staging scales a louder signal down to this peak
FULL_SCALE = 32767 / 32768  # largest positive 16-bit sample read back as float
MAX_FULL_SCALE_RUN = 32  # more consecutive full-scale samples than this = clipped (or a NaN written as PCM)


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


def conform(x: np.ndarray, sr: int, sample_rate: int, channels: int) -> tuple[np.ndarray, list[str]]:
    """Resample and map channels; also say what was changed (converters print it per file)."""
    changes = []
    if sr != sample_rate:
        changes.append(f"resampled {sr} -> {sample_rate} Hz")
    if x.shape[0] != channels:
        how = "downmixed" if x.shape[0] > channels else "duplicated"
        changes.append(f"{how} {x.shape[0]} -> {channels} channel(s)")
    return to_channels(resample(x, sr, sample_rate), channels).astype(np.float32), changes


def peak(x: np.ndarray) -> float:
    return float(np.abs(x).max()) if np.size(x) else 0.0


def fit_peak(x: np.ndarray, limit: float = SAFE_PEAK) -> tuple[np.ndarray, float]:
    """Scale ``x`` down (never up) so its peak is at most ``limit``; returns (audio, gain applied)."""
    top = peak(x)
    gain = limit / top if top > limit * (1 + 1e-6) else 1.0  # float sums may overshoot by an ulp
    return (x * gain if gain != 1.0 else x), gain


def check_finite(x: np.ndarray, what: str) -> None:
    """Refuse NaN/inf samples; ``what`` names the file (PCM would turn them into full-scale clicks)."""
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argmax(bad.reshape(-1, bad.shape[-1]).any(axis=0)))
        raise DataError(f"{what} contains NaN or inf samples ({int(bad.sum())} of {x.size}, "
                        f"first at sample {first})")


def longest_full_scale_run(x: np.ndarray) -> tuple[int, int]:
    """(length, start) of the longest run of samples at full scale in any channel of ``[C, S]``."""
    hot = (np.abs(x) >= FULL_SCALE).any(axis=0).astype(np.int8)
    if not hot.any():
        return 0, 0
    edges = np.diff(np.concatenate(([0], hot, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    i = int(np.argmax(ends - starts))
    return int(ends[i] - starts[i]), int(starts[i])


def audio_info(path: Path, song: str) -> sf._SoundFileInfo:
    """Header of an audio file; an unreadable file becomes a DataError naming song and file."""
    try:
        return sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError for corrupt headers
        raise DataError(f"song '{song}': cannot read {path}: {one_line(exc)}") from None


def read_audio(
    path: Path, song: str, start: int = 0, frames: int = -1, channels: int | None = None
) -> tuple[np.ndarray, int]:
    """Read ``frames`` samples from ``start`` as float32 ``[C, S]`` (partial reads are cheap for WAV/FLAC)."""
    try:
        data, sr = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    except Exception as exc:
        raise DataError(f"song '{song}': cannot read {path}: {one_line(exc)}") from None
    x = data.T
    if x.shape[-1] == 0 and frames != 0:
        raise DataError(f"song '{song}': {path} holds no audio (0 samples)")
    check_finite(x, f"song '{song}': {path}")
    if channels is not None:
        x = to_channels(x, channels)
    return np.ascontiguousarray(x), int(sr)


def load_conformed(path: Path, song: str, sample_rate: int, channels: int) -> tuple[np.ndarray, list[str]]:
    """Whole file at ``sample_rate`` with ``channels`` channels, and the list of changes made."""
    x, sr = read_audio(path, song)
    return conform(x, sr, sample_rate, channels)


def load_resampled(path: Path, song: str, sample_rate: int, channels: int) -> np.ndarray:
    """Whole file at ``sample_rate`` with ``channels`` channels (metrics and separation use this)."""
    return load_conformed(path, song, sample_rate, channels)[0]


def write_audio(path: str | os.PathLike[str], x: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> None:
    """Write ``[C, S]`` atomically; audio that PCM would clip or wrap is refused, not clipped."""
    target = Path(path)
    data = np.asarray(x, dtype=np.float32)
    check_finite(data, f"cannot write {target.name}:")
    if subtype.startswith("PCM") and peak(data) > 1.0:
        raise DataError(f"{target}: peak {peak(data):.3f} is above full scale and would clip; "
                        "gain-stage it first (data.audio.fit_peak)")
    data = data.T
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
