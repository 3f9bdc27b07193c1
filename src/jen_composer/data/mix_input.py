"""A mix given as input (to separate, or to fit new stems to): checked and converted in one place.

Sessions, `compose`, the studio, the inference pipeline and the separation metrics all pass a user's
mix through `condition_mix`, so every entry point refuses the same bad mixes with the same line:
non-finite or silent mixes are refused by name; another sample rate or channel count is converted;
a mix longer than the take is cut and one shorter than it by at most ``length_tolerance_s``
(``data.length_tolerance_seconds``, the tolerance between a song's stems) padded
(each with a one-line note); a mix shorter than that cannot condition the take and is refused.
"""

from __future__ import annotations

import numpy as np

from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import DataError
from jen_composer.data.audio import check_finite, conform, rms_db

SILENCE_DB = -60.0  # a mix quieter than this (RMS dBFS) holds nothing to separate or fit


def condition_mix(mix: np.ndarray, sr: int, *, sample_rate: int, channels: int, samples: int, name: str = "mix",
                  length_tolerance_s: float = DataConfig.length_tolerance_seconds, silence_db: float = SILENCE_DB) -> tuple[np.ndarray, list[str]]:
    """``[channels, samples]`` float32 and the notes on what was converted; DataError when unusable."""
    x = np.asarray(mix, dtype=np.float32)
    x = x[None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[-1] == 0:
        raise DataError(f"{name}: expected mix audio [channels, samples], got shape {tuple(np.shape(mix))}")
    check_finite(x, f"{name}: the mix")
    level = rms_db(x)
    if level < silence_db:
        raise DataError(f"{name}: the mix is silent (RMS {level:.1f} dBFS < {silence_db:.0f} dBFS); nothing to condition on")
    x, notes = conform(x, int(sr), int(sample_rate), int(channels))
    have, want = x.shape[-1] / sample_rate, samples / sample_rate
    if x.shape[-1] > samples:
        notes.append(f"cut from {have:.2f} s to the take's {want:.2f} s")
        x = x[:, :samples]
    elif x.shape[-1] < samples:
        if want - have > length_tolerance_s:
            raise DataError(f"{name}: the mix lasts {have:.2f} s but the take (and its kept stems) {want:.2f} s; "
                            "give a mix that covers the take, or shorten the take")
        notes.append(f"padded from {have:.3f} s to the take's {want:.3f} s")
        x = np.pad(x, ((0, 0), (0, samples - x.shape[-1])))
    return np.ascontiguousarray(x, dtype=np.float32), [f"{name}: {n}" for n in notes]
