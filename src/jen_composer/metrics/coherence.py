"""Music-coherence metrics that need no weights (librosa): do the stems play together?

All functions take mono float waveforms (numpy ``[S]``) at one sample rate:

- ``tempo_adherence``: estimated tempo of a clip vs the prompted tempo (octave errors folded).
- ``beat_sync``: share of a track's onsets that fall within a tolerance of a drum onset.
- ``key_agreement`` / ``chroma_agreement``: cosine of the clips' average chroma (same key?) and the
  mean frame-wise chroma cosine (same chords at the same time?).
- ``bass_chord_agreement``: share of voiced bass frames whose pitch class is the labelled chord root.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import librosa
import numpy as np

PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ROOT = re.compile(r"^\s*([A-Ga-g])([#b♯♭]*)")


def estimate_tempo(wave: np.ndarray, sr: int, hop_length: int = 512) -> float:
    """Global tempo in BPM from librosa's onset-autocorrelation estimator."""
    env = librosa.onset.onset_strength(y=np.asarray(wave, dtype=np.float32), sr=sr, hop_length=hop_length)
    return float(librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=hop_length, aggregate=np.median)[0])


def tempo_error(estimated: float, target: float) -> float:
    """Relative tempo error, forgiving half/double-tempo (octave) confusions."""
    if target <= 0:
        raise ValueError(f"target tempo must be positive, got {target}")
    return float(min(abs(estimated * f - target) / target for f in (0.5, 1.0, 2.0)))


def tempo_adherence(wave: np.ndarray, sr: int, target_bpm: float, tolerance: float = 0.04,
                    hop_length: int = 512) -> dict[str, float]:
    """``{"estimated", "error", "hit"}`` for one clip against its prompted tempo."""
    est = estimate_tempo(wave, sr, hop_length)
    err = tempo_error(est, target_bpm)
    return {"estimated": est, "error": err, "hit": float(err <= tolerance)}


ONSET_N_FFT = 2048  # librosa's onset-strength window (its default), in samples


def edge_frames(hop_length: int) -> int:
    """Onset-envelope frames at each end of a clip that see its edge: the jump from the zero padding
    into the audio is an "onset" at the start of EVERY clip (two independent stationary noises
    correlate at 0.74 through it), so scores drop these frames."""
    return -(-ONSET_N_FFT // hop_length)


def onset_times(wave: np.ndarray, sr: int, hop_length: int = 512) -> np.ndarray:
    """Onset times in seconds (librosa's peak-picked spectral flux), none within the clip's edge frames."""
    y = np.asarray(wave, dtype=np.float32)
    times = librosa.onset.onset_detect(y=y, sr=sr, hop_length=hop_length, units="time", backtrack=False)
    edge = edge_frames(hop_length) * hop_length / sr
    return times[(times >= edge) & (times <= len(y) / sr - edge)]


def onset_sync(reference: np.ndarray, other: np.ndarray, tolerance: float) -> float:
    """Share of ``other`` onsets within ``tolerance`` s of some ``reference`` onset.

    NaN when either side has no onsets: with nothing to line up with, there is nothing to measure.
    """
    if len(other) == 0 or len(reference) == 0:
        return float("nan")
    ref = np.sort(reference)
    idx = np.clip(np.searchsorted(ref, other), 1, len(ref) - 1) if len(ref) > 1 else np.zeros(len(other), int)
    nearest = np.minimum(np.abs(other - ref[idx]), np.abs(other - ref[np.maximum(idx - 1, 0)]))
    return float(np.mean(nearest <= tolerance))


def beat_sync(drums: np.ndarray, others: Sequence[np.ndarray], sr: int, tolerance: float = 0.07,
              hop_length: int = 512) -> float:
    """Mean over the non-drum tracks of the share of their onsets that land on drum onsets."""
    ref = onset_times(drums, sr, hop_length)
    scores = [onset_sync(ref, onset_times(w, sr, hop_length), tolerance) for w in others]
    scores = [s for s in scores if np.isfinite(s)]
    return float(np.mean(scores)) if scores else float("nan")


_CHROMA_CACHE: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()


def chroma_power(wave: np.ndarray, sr: int, hop_length: int = 512) -> np.ndarray:
    """Unnormalised chroma ``[12, T]`` of CQT *power*: C1 up, 7 octaves, 12 bins each, A=440.

    Power (not magnitude) and double-length filters (``filter_scale=2``) keep a low bass note from
    leaking half its weight into the neighbouring semitones; 12 bins and a fixed tuning make it ~2x
    faster than librosa's default chroma_cqt. On a known-answer song (metrics/synthetic.py) the
    chord-tone share of bass/chords/melody is 0.74/0.85/0.92 with it, 0.45/0.63/0.70 with the default.
    The last few results are cached by content, since every score of a clip needs the same chroma.
    """
    y = np.ascontiguousarray(wave, dtype=np.float32)
    key = (hashlib.sha1(y.tobytes()).hexdigest(), sr, hop_length)
    if key in _CHROMA_CACHE:
        _CHROMA_CACHE.move_to_end(key)
        return _CHROMA_CACHE[key]
    fmin = librosa.note_to_hz("C1")
    cqt = librosa.cqt(y, sr=sr, hop_length=hop_length, fmin=fmin, n_bins=84, bins_per_octave=12, tuning=0.0,
                      filter_scale=2)
    out = librosa.feature.chroma_cqt(C=np.abs(cqt) ** 2, bins_per_octave=12, n_octaves=7, norm=None, fmin=fmin)
    _CHROMA_CACHE[key] = out
    while len(_CHROMA_CACHE) > 16:
        _CHROMA_CACHE.popitem(last=False)
    return out


def chroma(wave: np.ndarray, sr: int, hop_length: int = 512) -> np.ndarray:
    """Chroma ``[12, T]``, each frame scaled to a maximum of 1 (see ``chroma_power``)."""
    c = chroma_power(wave, sr, hop_length)
    return c / np.maximum(c.max(axis=0, keepdims=True), 1e-12)


def _cos(a: np.ndarray, b: np.ndarray, axis: int = 0) -> np.ndarray:
    return (a * b).sum(axis) / (np.linalg.norm(a, axis=axis) * np.linalg.norm(b, axis=axis) + 1e-9)


def key_agreement(a: np.ndarray, b: np.ndarray, sr: int, hop_length: int = 512) -> float:
    """Cosine of the two clips' time-averaged chroma (a key profile): same key -> close to 1."""
    return float(_cos(chroma(a, sr, hop_length).mean(axis=1), chroma(b, sr, hop_length).mean(axis=1)))


def chroma_agreement(a: np.ndarray, b: np.ndarray, sr: int, hop_length: int = 512) -> float:
    """Mean frame-wise chroma cosine: the same harmony at the same time (time shifts lower it)."""
    ca, cb = chroma(a, sr, hop_length), chroma(b, sr, hop_length)
    n = min(ca.shape[1], cb.shape[1])
    return float(np.mean(_cos(ca[:, :n], cb[:, :n], axis=0)))


def pitch_class(root: int | str) -> int:
    """``"F#"``, ``"Bb:min"``, ``"c"`` or an int -> 0..11."""
    if isinstance(root, (int, np.integer)):
        return int(root) % 12
    m = _ROOT.match(str(root))
    if not m:
        raise ValueError(f"cannot read a chord root from {root!r}")
    pc = PITCH_CLASSES[m.group(1).upper()] + m.group(2).count("#") + m.group(2).count("♯")
    return (pc - m.group(2).count("b") - m.group(2).count("♭")) % 12


def chord_segments(chords: Sequence[Any]) -> list[tuple[float, float, int]]:
    """Normalise chord labels: ``[start, end, root]`` lists or ``{"start", "end", "root"}`` dicts
    (``"chord"`` instead of ``"root"``, as the rendered benchmark writes, works too: its root is read)."""
    out = []
    for item in chords:
        if isinstance(item, Mapping):
            start, end, root = item["start"], item["end"], item["root"] if "root" in item else item["chord"]
        else:
            start, end, root = item
        out.append((float(start), float(end), pitch_class(root)))
    return out


def bass_pitch_classes(wave: np.ndarray, sr: int, hop_length: int = 512,
                       silence_db: float = -40.0) -> tuple[np.ndarray, np.ndarray]:
    """Frame times and the dominant low-register pitch class per frame (-1 where silent)."""
    y = np.asarray(wave, dtype=np.float32)
    c = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=hop_length, fmin=librosa.note_to_hz("C1"),
                                   n_octaves=4, norm=None)
    rms = librosa.feature.rms(y=y, hop_length=hop_length)[0]
    n = min(c.shape[1], len(rms))
    pcs = np.argmax(c[:, :n], axis=0)
    loud = librosa.amplitude_to_db(rms[:n], ref=np.max(rms) + 1e-12) > silence_db
    pcs = np.where(loud, pcs, -1)
    return librosa.frames_to_time(np.arange(n), sr=sr, hop_length=hop_length), pcs


def bass_chord_agreement(bass: np.ndarray, sr: int, chords: Sequence[Any], hop_length: int = 512) -> float:
    """Share of voiced, labelled frames where the bass plays the chord root (nan if none)."""
    times, pcs = bass_pitch_classes(bass, sr, hop_length)
    hits, total = 0, 0
    for start, end, root in chord_segments(chords):
        sel = (times >= start) & (times < end) & (pcs >= 0)
        hits += int(np.sum(pcs[sel] == root))
        total += int(np.sum(sel))
    return hits / total if total else float("nan")


def parse_tempo(prompt: str) -> float | None:
    """A tempo stated in a prompt (``"... 120 bpm ..."``), or None."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*bpm", prompt, flags=re.IGNORECASE)
    return float(m.group(1)) if m else None
