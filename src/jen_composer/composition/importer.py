"""Turn a user's audio file into a take: decode, check, resample, align length, match loudness.

Every way a file can be unusable ends in one ``DataError`` line that names the file and the problem,
so the CLI prints it and the studio shows it on the page while the session stays untouched.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from jen_composer.composition.audio import rms_db
from jen_composer.core.config.composition import ImportConfig
from jen_composer.core.errors import DataError

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
ALLOWED_SUFFIXES = (".wav", ".flac", ".ogg", ".aif", ".aiff", ".mp3")


def sanitize_filename(name: str, fallback: str = "upload") -> str:
    """A file name safe to place inside a folder: no separators, no leading dots, bounded length."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _SAFE.sub("_", base).lstrip("._")[:100]
    return base or fallback


def _decode(source: str | os.PathLike[str] | bytes, name: str) -> tuple[np.ndarray, int]:
    if isinstance(source, bytes):
        if not source:
            raise DataError(f"{name}: the file is empty (0 bytes)")
        handle: object = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{name}: no such file")
        if path.stat().st_size == 0:
            raise DataError(f"{name}: the file is empty (0 bytes)")
        handle = str(path)
    try:
        data, sr = sf.read(handle, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        msg = str(exc).split("\n")[0]
        raise DataError(f"{name}: not a readable audio file (supported: wav, flac, ogg, aiff, mp3): {msg}") from None
    return np.ascontiguousarray(data.T), int(sr)


def _resample(audio: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return audio
    import torch
    import torchaudio.functional as AF

    return AF.resample(torch.from_numpy(audio), sr, target).numpy().astype(np.float32)


def _channels(audio: np.ndarray, channels: int) -> np.ndarray:
    if audio.shape[0] == channels:
        return audio
    mono = audio.mean(axis=0, keepdims=True)
    return np.repeat(mono, channels, axis=0)


def load_user_audio(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str,
    sample_rate: int,
    channels: int,
    num_samples: int,
    reference_db: float | None,
    cfg: ImportConfig,
) -> np.ndarray:
    """Decode and condition a user file into ``[channels, num_samples]`` float32.

    Loudness is matched by RMS to ``reference_db`` (the other tracks' level) or to
    ``cfg.target_db`` when there is nothing to match, then peak-limited to ``cfg.peak_limit``.
    """
    audio, sr = _decode(source, name)
    if audio.shape[1] == 0:
        raise DataError(f"{name}: the file holds no audio samples")
    if not np.isfinite(audio).all():
        raise DataError(f"{name}: the audio contains NaN or infinite samples")
    seconds = audio.shape[1] / sr
    if seconds < cfg.min_seconds:
        raise DataError(f"{name}: too short ({seconds:.3f} s; at least {cfg.min_seconds} s is needed)")
    level = rms_db(audio)
    if level < cfg.silence_db:
        raise DataError(f"{name}: the audio is silent (RMS {level:.1f} dBFS < {cfg.silence_db} dBFS)")
    audio = _channels(_resample(audio, sr, sample_rate), channels)
    if audio.shape[1] >= num_samples:
        audio = audio[:, :num_samples]
    else:
        audio = np.pad(audio, ((0, 0), (0, num_samples - audio.shape[1])))
    current = rms_db(audio)
    if current < cfg.silence_db:
        raise DataError(f"{name}: silent over the session's length (RMS {current:.1f} dBFS)")
    target = cfg.target_db if reference_db is None else reference_db
    audio = audio * np.float32(10.0 ** ((target - current) / 20.0))
    peak = float(np.abs(audio).max())
    if peak > cfg.peak_limit:
        audio = audio * np.float32(cfg.peak_limit / peak)
    return np.ascontiguousarray(audio, dtype=np.float32)
