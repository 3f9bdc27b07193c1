"""Split a mix into our four tracks with Demucs (for baselines that only generate mixes).

Demucs' sources map onto ours as in the paper's protocol: bass -> bass, drums -> drums,
other -> instrument, vocals -> melody. Demucs and its weights are optional: without them this
raises one clear error instead of trying to download anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from jen_composer.core.errors import CheckpointError, ConfigError, one_line
from jen_composer.data.audio import load_resampled, resample

DEMUCS_TO_TRACK = {"bass": "bass", "drums": "drums", "other": "instrument", "vocals": "melody"}
_MODELS: dict[str, Any] = {}


class MixSeparator(Protocol):
    """Any other separator (e.g. `inference.separator.CheckpointSeparator`, a composer's separation mode)."""

    name: str  # what reports say split the mixes

    def separate(self, mix: np.ndarray, sample_rate: int, tracks: Sequence[str], prompt: str = "") -> dict[str, np.ndarray]:
        """Mono float32 stems ``{track: [S]}`` at ``sample_rate`` from a mono mix ``[S]``."""
        ...


def demucs_name(model_name: str) -> str:
    return f"Demucs '{model_name}'"


def ensure_separator(name: str) -> None:
    """Fail early (before any scoring) when mixes must be split but Demucs is unusable."""
    _model(name)


def _model(name: str) -> Any:
    if name in _MODELS:
        return _MODELS[name]
    try:
        from demucs.pretrained import get_model
    except ImportError:
        raise ConfigError("this folder holds mixes only; splitting them into tracks needs Demucs "
                          "(pip install demucs) and its weights (evaluation.separator="
                          f"'{name}'), or give per-track files <id>/<track>.wav") from None
    try:
        model = get_model(name)
    except Exception as exc:  # demucs raises several kinds when weights are missing or offline
        raise CheckpointError(f"Demucs model '{name}' unavailable ({type(exc).__name__}: "
                              f"{one_line(exc)}); put its weights in the "
                              "torch hub cache or pick another evaluation.separator") from None
    _MODELS[name] = model.eval()
    return _MODELS[name]


def separate(mix_path: Path, clip_id: str, tracks: Sequence[str], sample_rate: int,
             model_name: str) -> dict[str, np.ndarray]:
    """Mono float32 stems at ``sample_rate`` for ``tracks`` from one mix file."""
    missing = [t for t in tracks if t not in DEMUCS_TO_TRACK.values()]
    if missing:
        raise ConfigError(f"Demucs cannot produce track(s) {missing}; it yields {sorted(DEMUCS_TO_TRACK.values())}")
    model = _model(model_name)
    from demucs.apply import apply_model

    wave = load_resampled(mix_path, clip_id, int(model.samplerate), int(model.audio_channels))
    with torch.no_grad():
        out = apply_model(model, torch.from_numpy(wave)[None], progress=False)[0]  # [sources, C, S]
    stems = {}
    for i, source in enumerate(model.sources):
        track = DEMUCS_TO_TRACK.get(source)
        if track in tracks:
            mono = out[i].mean(dim=0, keepdim=True).numpy()
            stems[track] = resample(mono, int(model.samplerate), sample_rate)[0].astype(np.float32)
    return {t: stems[t] for t in tracks}
