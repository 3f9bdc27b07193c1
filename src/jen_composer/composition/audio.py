"""Audio plumbing for sessions: lossless take files, the mix, region splicing.

Takes are stored as 32-bit float WAV so that a kept track read back and written again is
bit-identical to what was generated or imported (no re-encoding, no dither, no clipping).
"""

from __future__ import annotations

import io
import os

import numpy as np
import soundfile as sf

from jen_composer.core.errors import DataError
from jen_composer.core.io import atomic_path
from jen_composer.data.audio import fit_peak
from jen_composer.data.mix import mix_stems


def write_take(path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int) -> None:
    """Write ``[C, S]`` float32 audio atomically as float WAV (lossless for float32)."""
    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.ascontiguousarray(audio.T, dtype=np.float32), sample_rate,
                 subtype="FLOAT", format="WAV")


def read_take(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a take written by ``write_take`` back as ``[C, S]`` float32."""
    try:
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise DataError(f"{path}: cannot read session audio ({exc})") from None
    return np.ascontiguousarray(data.T)


def wav_bytes(audio: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> bytes:
    """Encode ``[C, S]`` audio for a browser player (16-bit PCM plays everywhere).

    PCM cannot hold a peak above 1, so a louder take is scaled down for playback (never clipped);
    the take file itself and the export keep the float samples.
    """
    buf = io.BytesIO()
    playable = fit_peak(audio)[0] if subtype.startswith("PCM") else audio
    sf.write(buf, np.ascontiguousarray(playable.T), sample_rate, subtype=subtype, format="WAV")
    return buf.getvalue()


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def audible_tracks(tracks: list[str], mute: set[str], solo: set[str]) -> list[str]:
    """Solo narrows the set to the soloed tracks; mute always silences (as in most DAWs)."""
    chosen = [t for t in tracks if t in solo] if solo else list(tracks)
    return [t for t in chosen if t not in mute]


def mix_tracks(
    takes: dict[str, np.ndarray], gain_db: dict[str, float], mute: set[str], solo: set[str]
) -> np.ndarray:
    """Gain-scaled sum of the audible takes, ``[C, S]`` float32 (silence if nothing is audible)."""
    if not takes:
        raise DataError("nothing to mix: the session has no takes yet")
    audible = audible_tracks(list(takes), mute, solo)
    if not audible:
        return np.zeros_like(next(iter(takes.values())), dtype=np.float32)
    gains = [db_to_gain(gain_db.get(t, 0.0)) for t in audible]
    return mix_stems([takes[t] for t in audible], gains)


def splice_region(old: np.ndarray, new: np.ndarray, a: int, b: int, fade: int) -> np.ndarray:
    """``old`` with ``[a, b)`` replaced by ``new`` (full length or region length), faded at the edges.

    The fades lie inside the region, so every sample outside ``[a, b)`` is bit-identical to ``old``.
    """
    if new.shape[-1] == old.shape[-1]:
        new = new[:, a:b]
    if new.shape[-1] != b - a:
        raise ValueError(f"region audio has {new.shape[-1]} samples, expected {b - a}")
    out = old.copy()
    seg = new.astype(np.float64)
    fade = max(0, min(fade, (b - a) // 2))
    if fade:
        ramp = (np.arange(fade) + 0.5) / fade
        seg[:, :fade] = old[:, a : a + fade] * (1 - ramp) + seg[:, :fade] * ramp
        seg[:, -fade:] = seg[:, -fade:] * (1 - ramp) + old[:, b - fade : b] * ramp
    out[:, a:b] = seg.astype(np.float32)
    return out


def peaks(audio: np.ndarray, bins: int) -> list[list[float]]:
    """Per-bin [min, max] of the channel mean, for drawing a waveform."""
    mono = audio.mean(axis=0)
    edges = np.linspace(0, mono.size, bins + 1).astype(int)
    return [
        [round(float(mono[s:e].min()), 4), round(float(mono[s:e].max()), 4)] if e > s else [0.0, 0.0]
        for s, e in zip(edges[:-1], edges[1:])
    ]


def rms_db(audio: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return 20.0 * np.log10(max(rms, 1e-12))
