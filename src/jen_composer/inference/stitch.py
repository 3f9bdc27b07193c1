"""Joining per-window audio of a generated track into one piece, with a crossfade in each overlap.

The fade sits in the middle of the overlap, so neither window's edge samples (where a decoder sees
only half its context) are heard. Only generated tracks are stitched: kept tracks never pass
through here, which is what keeps them bit-exact.
"""

from __future__ import annotations

import numpy as np


class Stitcher:
    """Collects ``[C, n]`` pieces at sample offsets into a ``[C, total]`` float32 piece."""

    def __init__(self, channels: int, total: int, crossfade: int) -> None:
        self.out = np.zeros((channels, total), dtype=np.float32)
        self.crossfade = max(0, int(crossfade))
        self.made = 0  # samples [0, made) are written

    def add(self, start: int, piece: np.ndarray) -> None:
        """Place ``piece`` at ``start``; where it overlaps what is written, fade from old to new."""
        if start > self.made:
            raise ValueError(f"piece at {start} leaves a gap after {self.made}")
        end = min(start + piece.shape[-1], self.out.shape[-1])
        piece = piece[:, : end - start]
        overlap = max(0, min(self.made, end) - start)
        fade = min(self.crossfade, overlap)
        c0 = start + (overlap - fade) // 2  # old audio up to here, new audio from c0 + fade on
        if fade:
            ramp = ((np.arange(fade) + 0.5) / fade).astype(np.float32)
            old = self.out[:, c0 : c0 + fade]
            self.out[:, c0 : c0 + fade] = old * (1 - ramp) + piece[:, c0 - start : c0 - start + fade] * ramp
        self.out[:, c0 + fade : end] = piece[:, c0 + fade - start :]
        self.made = max(self.made, end)
