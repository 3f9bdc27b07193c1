"""Which engine inputs may name the mix: only a composer trained with ``composer.mix_track`` takes
one, as a condition (never generated). Every refusal is one line; conversion notes are logged."""

from __future__ import annotations

import logging

import numpy as np

from jen_composer.core.errors import DataError
from jen_composer.core.tracks import MIX
from jen_composer.data.mix_input import condition_mix

log = logging.getLogger(__name__)

NO_MIX_TRACK = ("this checkpoint was trained without the mix track (composer.mix_track=false), so it cannot "
                "take a mix; use one trained with composer.mix_track=true")


def given_mix(kept: dict[str, np.ndarray], generate: list[str], tracks: list[str], mix_track: bool,
              sample_rate: int, channels: int, samples: int, length_tolerance_s: float | None = None) -> dict[str, np.ndarray]:
    """``kept`` with its mix checked and fitted to the take; DataError for any input the model cannot use."""
    if MIX in generate:
        raise DataError("the mix is a condition, never generated: generate stems and give the mix as kept")
    unknown = sorted((set(kept) | set(generate)) - set(tracks) - {MIX})
    if unknown:
        raise DataError(f"unknown track(s) {unknown}; this checkpoint has {tracks}")
    if MIX not in kept:
        return kept
    if not mix_track:
        raise DataError(NO_MIX_TRACK)
    extra = {} if length_tolerance_s is None else {"length_tolerance_s": float(length_tolerance_s)}
    mix, notes = condition_mix(kept[MIX], sample_rate, sample_rate=sample_rate, channels=channels, samples=samples, **extra)
    for note in notes:
        log.warning(note)
    return {**kept, MIX: mix}
