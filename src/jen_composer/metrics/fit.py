"""Conditioning fit of a generated track: does it follow the harmony and the rhythm it was given?

Weight-free (librosa) scores of ONE generated track against what it was conditioned on:

- ``harmonic_fit_chords(wave, sr, chords)``: share of the track's chroma energy on the tones of the
  labelled chord sounding at each frame (voiced frames only).
- ``harmonic_fit_stems(wave, kept, sr)``: the same against the kept stems' chroma instead of labels:
  per frame, the generated chroma weighted by the kept chroma (smoothed over ``context_seconds``,
  scaled so its strongest pitch class is 1); 1 = every generated tone is the kept stems' main tone.
- ``rhythmic_fit_stems(wave, drums, sr)`` / ``rhythmic_fit_grid(wave, beats, sr)``: Pearson
  correlation of the track's onset-strength envelope with the kept drums' envelope, or with a pulse
  train on the labelled beats; both envelopes are smoothed by a Gaussian of width ``tolerance``.
  Strong onsets on the beat raise it, a half-beat offset lowers it. The frames that see the clip's
  edges are left out (``coherence.edge_frames``): every clip "starts" with an onset.

Every function returns NaN when there is nothing to measure (a silent track, silent drums, no voiced
frame inside a labelled chord): callers report that as missing, never as 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import librosa
import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d

from jen_composer.data.synth.theory import QUALITIES
from jen_composer.metrics.coherence import chroma_power, edge_frames, pitch_class

NAN = float("nan")
_SUFFIX_INTERVALS = {name: (0, *ivs) for ivs, name in QUALITIES.items()}
_ALIASES = {"maj": "", "min": "m", "major": "", "minor": "m", "M": "", "-": "m", "o": "dim", "dom7": "7",
            "min7": "m7", "hdim7": "m7b5", "ø": "m7b5"}
_ROOT = re.compile(r"^\s*[A-Ga-g][#b♯♭]*")
ChordSpan = tuple[float, float, tuple[int, ...]]  # start s, end s, pitch classes of the chord


def chord_tones(label: int | str) -> tuple[int, ...]:
    """``"Am7"`` -> (9, 0, 4, 7); ``"Bb:min"`` and ``"F#dim"`` work too; a bare root is a major triad."""
    root = pitch_class(label)
    if isinstance(label, (int, np.integer)):
        return tuple((root + i) % 12 for i in _SUFFIX_INTERVALS[""])
    m = _ROOT.match(str(label))
    suffix = str(label)[m.end():].strip().lstrip(":") if m else ""
    suffix = _ALIASES.get(suffix, suffix)
    if suffix not in _SUFFIX_INTERVALS:
        raise ValueError(f"cannot read a chord quality from {label!r} (known: {sorted(_SUFFIX_INTERVALS)})")
    return tuple((root + i) % 12 for i in _SUFFIX_INTERVALS[suffix])


def chord_spans(chords: Sequence[Any]) -> list[ChordSpan]:
    """Chord labels as ``{"start", "end", "chord" | "root"}`` dicts or ``[start, end, label]`` lists."""
    out = []
    for item in chords:
        if isinstance(item, Mapping):
            start, end, label = item["start"], item["end"], item["chord"] if "chord" in item else item["root"]
        else:
            start, end, label = item
        out.append((float(start), float(end), chord_tones(label)))
    return out


def frame_db(wave: np.ndarray, hop_length: int) -> np.ndarray:
    """RMS level of each frame in dBFS."""
    rms = librosa.feature.rms(y=np.asarray(wave, dtype=np.float32), hop_length=hop_length)[0]
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def is_silent(wave: np.ndarray, hop_length: int, silence_db: float) -> bool:
    """True when no frame of ``wave`` is louder than ``silence_db`` dBFS."""
    return bool(len(wave) == 0 or frame_db(wave, hop_length).max() <= silence_db)


def pitch_profile(wave: np.ndarray, sr: int, hop_length: int = 512,
                  silence_db: float = -50.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame times, chroma ``[12, T]`` summing to 1 in voiced frames, and the voiced mask ``[T]``.

    A frame is voiced when it is louder than ``silence_db`` dBFS and within 40 dB of the track's
    loudest frame (release tails below that carry no reliable pitch).
    """
    c = chroma_power(wave, sr, hop_length)
    db = frame_db(wave, hop_length)
    n = min(c.shape[1], len(db))
    c, db = c[:, :n], db[:n]
    voiced = (db > silence_db) & (db > db.max() - 40.0) & (c.sum(axis=0) > 0)
    prof = c / np.maximum(c.sum(axis=0, keepdims=True), 1e-12)
    return librosa.frames_to_time(np.arange(n), sr=sr, hop_length=hop_length), prof, voiced


def _span_index(times: np.ndarray, spans: Sequence[ChordSpan]) -> np.ndarray:
    """Index of the chord sounding at each frame time (-1 outside every span)."""
    idx = np.full(len(times), -1)
    for i, (start, end, _) in enumerate(spans):
        idx[(times >= start) & (times < end)] = i
    return idx


def tone_share(prof: np.ndarray, times: np.ndarray, voiced: np.ndarray, spans: Sequence[ChordSpan]) -> float:
    """Mean chord-tone share of ``prof`` over voiced, labelled frames (NaN if there are none)."""
    idx = _span_index(times, spans)
    use = voiced & (idx >= 0)
    if not use.any():
        return NAN
    masks = np.zeros((len(spans), 12))
    for i, (_, _, tones) in enumerate(spans):
        masks[i, list(tones)] = 1.0
    return float(np.mean((prof[:, use] * masks[idx[use]].T).sum(axis=0)))


def harmonic_fit_chords(wave: np.ndarray, sr: int, chords: Sequence[Any], hop_length: int = 512,
                        silence_db: float = -50.0) -> float:
    """Share of the track's chroma energy on the labelled chord's tones (0-1; NaN if unvoiced)."""
    times, prof, voiced = pitch_profile(wave, sr, hop_length, silence_db)
    return tone_share(prof, times, voiced, chord_spans(chords))


def harmonic_fit_stems(wave: np.ndarray, kept: Sequence[np.ndarray], sr: int, hop_length: int = 512,
                       silence_db: float = -50.0, context_seconds: float = 0.5) -> float:
    """Generated chroma weighted by the kept stems' (smoothed, max-scaled) chroma (0-1; NaN if none)."""
    loud = [k for k in kept if not is_silent(k, hop_length, silence_db)]
    if not loud:
        return NAN
    _, prof, voiced = pitch_profile(wave, sr, hop_length, silence_db)
    ref = sum(chroma_power(k, sr, hop_length) for k in loud)
    size = max(1, int(round(context_seconds * sr / hop_length)))
    ref = uniform_filter1d(ref, size=size, axis=1, mode="nearest")
    n = min(prof.shape[1], ref.shape[1])
    top = ref[:, :n].max(axis=0)
    use = voiced[:n] & (top > 1e-6 * max(float(top.max()), 1e-12))
    if not use.any():
        return NAN
    weight = ref[:, :n][:, use] / top[use]
    return float(np.mean((prof[:, :n][:, use] * weight).sum(axis=0)))


def onset_envelope(wave: np.ndarray, sr: int, hop_length: int = 512) -> np.ndarray:
    """librosa's onset strength (spectral flux on a log-mel spectrogram), one value per frame."""
    return librosa.onset.onset_strength(y=np.asarray(wave, dtype=np.float32), sr=sr, hop_length=hop_length)


def envelope_correlation(a: np.ndarray, b: np.ndarray, sigma_frames: float, edge: int = 0) -> float:
    """Pearson correlation of two envelopes after Gaussian smoothing, without ``edge`` frames at
    either end (NaN if either is flat or too short)."""
    n = min(len(a), len(b))
    if n - 2 * edge < 3:
        return NAN
    a = gaussian_filter1d(np.asarray(a[edge:n - edge], dtype=np.float64), sigma_frames)
    b = gaussian_filter1d(np.asarray(b[edge:n - edge], dtype=np.float64), sigma_frames)
    sa, sb = a.std(), b.std()
    if sa < 1e-9 or sb < 1e-9:
        return NAN
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def beat_pulses(beats: Sequence[float], frames: int, sr: int, hop_length: int = 512) -> np.ndarray:
    """A unit pulse at the frame of each labelled beat."""
    out = np.zeros(frames)
    idx = librosa.time_to_frames(np.asarray(beats, dtype=np.float64), sr=sr, hop_length=hop_length)
    out[idx[(idx >= 0) & (idx < frames)]] = 1.0
    return out


def _sigma(tolerance: float, sr: int, hop_length: int) -> float:
    return max(0.5, tolerance * sr / hop_length)


def rhythmic_fit_stems(wave: np.ndarray, drums: np.ndarray, sr: int, hop_length: int = 512,
                       tolerance: float = 0.07, silence_db: float = -50.0) -> float:
    """Onset-envelope correlation of a generated track with the kept drums (-1..1; NaN if silent)."""
    if is_silent(wave, hop_length, silence_db) or is_silent(drums, hop_length, silence_db):
        return NAN
    return envelope_correlation(onset_envelope(wave, sr, hop_length), onset_envelope(drums, sr, hop_length),
                                _sigma(tolerance, sr, hop_length), edge_frames(hop_length))


def rhythmic_fit_grid(wave: np.ndarray, beats: Sequence[float], sr: int, hop_length: int = 512,
                      tolerance: float = 0.07, silence_db: float = -50.0) -> float:
    """Onset-envelope correlation of a generated track with the labelled beats (-1..1; NaN if none)."""
    if len(beats) == 0 or is_silent(wave, hop_length, silence_db):
        return NAN
    env = onset_envelope(wave, sr, hop_length)
    return envelope_correlation(env, beat_pulses(beats, len(env), sr, hop_length), _sigma(tolerance, sr, hop_length),
                                edge_frames(hop_length))
