"""What the probe sees and what it must say: fixed-length audio features and per-clip targets.

Features (one vector per clip, any length): log-mel mean and std (timbre, genre, instrument), the
mean of the frame-normalised chroma and its std (key), and the onset envelope's autocorrelation read
at 60-200 BPM (tempo). Targets come from a song's tags and labels, per track: drums have no key, a
mix has no single instrument family.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import librosa
import numpy as np

from jen_composer.data.synth.theory import NOTE_NAMES
from jen_composer.metrics.coherence import chroma_power, pitch_class

HEADS = ("genre", "key", "tempo", "family")
FEATURE_VERSION = 1  # bump when the features change: a stored probe refuses other versions
N_MELS = 48
BPM_GRID = np.arange(60.0, 201.0, 2.0)
ONSET_HOP = 128
GM_FAMILIES = ("piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass",
               "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic", "percussive", "sound effects")
DRUMS_FAMILY = "drums"


def clip_features(wave: np.ndarray, sr: int) -> np.ndarray:
    """One float32 feature vector for a mono clip (length ``feature_size()``), after RMS levelling."""
    y = np.asarray(wave, dtype=np.float32)
    rms = float(np.sqrt(np.mean(y**2))) if len(y) else 0.0
    if rms > 1e-5:  # level-free: a stem and a quiet generated copy of it look the same
        y = y * np.float32(0.1 / rms)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=256,
                                                             n_mels=N_MELS), ref=1.0, top_db=None)
    mel = np.maximum(mel, -100.0)
    c = chroma_power(y, sr, 512)
    c = c / np.maximum(c.sum(axis=0, keepdims=True), 1e-12)
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=ONSET_HOP)
    env = env - env.mean()
    ac = librosa.autocorrelate(env)
    ac = ac / ac[0] if len(ac) and ac[0] > 0 else np.zeros_like(ac)
    lags = 60.0 * sr / (ONSET_HOP * BPM_GRID)
    tempo = np.interp(lags, np.arange(len(ac)), ac, right=0.0) if len(ac) else np.zeros(len(BPM_GRID))
    return np.concatenate([mel.mean(axis=1), mel.std(axis=1), c.mean(axis=1), c.std(axis=1), tempo]).astype(np.float32)


def feature_size() -> int:
    return 2 * N_MELS + 24 + len(BPM_GRID)


def key_class(key: str) -> str:
    """``"F# major"``, ``"Eb minor"`` -> a canonical key name (enharmonic spellings merged)."""
    tonic, _, mode = str(key).strip().partition(" ")
    mode = mode.strip().lower() or "major"
    if mode not in ("major", "minor"):
        raise ValueError(f"cannot read a key from {key!r}")
    return f"{NOTE_NAMES[pitch_class(tonic)]} {mode}"


def tempo_class(bpm: float, edges: Sequence[float]) -> str:
    """The tempo bin of ``bpm``: ``"<105"``, ``"105-120"``, ..., ``">=130"``."""
    edges = list(edges)
    i = int(np.searchsorted(edges, float(bpm), side="right"))
    if i == 0:
        return f"<{edges[0]:g}"
    return f">={edges[-1]:g}" if i == len(edges) else f"{edges[i - 1]:g}-{edges[i]:g}"


def tempo_classes(edges: Sequence[float]) -> list[str]:
    mids = [edges[0] - 1, *[(a + b) / 2 for a, b in zip(edges, edges[1:])], edges[-1] + 1]
    return [tempo_class(m, edges) for m in mids]


def targets(labels: Mapping[str, Any], track: str | None, tempo_edges: Sequence[float],
            drums_track: str = "drums") -> dict[str, str | None]:
    """What the probe should answer for ``track`` (None = the mix) of a song; None where undefined."""
    out: dict[str, str | None] = {h: None for h in HEADS}
    if labels.get("genre"):
        out["genre"] = str(labels["genre"])
    if labels.get("key") and track != drums_track:
        out["key"] = key_class(str(labels["key"]))
    if labels.get("tempo"):
        out["tempo"] = tempo_class(float(labels["tempo"]), tempo_edges)
    programs = labels.get("programs") or {}
    if track == drums_track:
        out["family"] = DRUMS_FAMILY
    elif track is not None and track in programs:
        out["family"] = GM_FAMILIES[int(programs[track]) // 8]
    return out
