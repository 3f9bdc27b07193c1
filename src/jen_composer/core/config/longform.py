"""Long-form generation (`composition.longform`): how a piece longer than one window is made.

A piece longer than ``window_seconds`` is generated window by window; each window is conditioned on
the last ``overlap_seconds`` of the previous one (per track, as a time-region edit), and generated
tracks are cross-faded over ``crossfade_seconds`` in the middle of each overlap. Kept tracks are
never faded: they come back as given.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LongformConfig:
    window_seconds: float = 10.0  # longest piece made in one sampler pass (the paper's window)
    overlap_seconds: float = 2.0  # each window sees this much of the previous one as known frames
    crossfade_seconds: float = 0.25  # generated tracks are blended over this much, centred in the overlap
