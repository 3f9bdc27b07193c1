"""Where a song is audible: per-track mean-square power in blocks, queried per window in O(1).

Silence skipping uses it for both sources: audio (blocks of BLOCK samples) and latents (one block per
latent frame, power measured on the audio the frame encodes).
"""

from __future__ import annotations

import numpy as np

from jen_composer.data.audio import power_db

BLOCK = 256  # samples per block for audio sources (16 ms at 16 kHz)


def block_power(x: np.ndarray, block: int, n_blocks: int | None = None) -> np.ndarray:
    """``x [k, C, S]`` -> mean-square power ``[k, n_blocks]`` (the last block is zero-padded)."""
    k, _, s = x.shape
    n = n_blocks if n_blocks is not None else -(-s // block)
    padded = np.zeros((k, x.shape[1], n * block), dtype=np.float64)
    m = min(s, n * block)
    padded[..., :m] = x[..., :m]
    return np.square(padded).reshape(k, x.shape[1], n, block).mean(axis=(1, 3))


class Activity:
    """Window loudness from block power: ``window_db(start, length)`` in the source's units."""

    def __init__(self, power: np.ndarray, block: int) -> None:
        self.block = block
        self.power = power
        self._cum = np.concatenate([np.zeros((power.shape[0], 1)), np.cumsum(power, axis=1)], axis=1)

    def window_db(self, start: int, length: int) -> np.ndarray:
        """Per-track RMS level (dBFS) of the blocks overlapping ``[start, start + length)``."""
        b0 = start // self.block
        b1 = max(b0 + 1, min(self.power.shape[1], -(-(start + length) // self.block)))
        return power_db((self._cum[:, b1] - self._cum[:, b0]) / (b1 - b0))

    def is_active(self, start: int, length: int, threshold_db: float) -> bool:
        """True when at least one track rises above the threshold in this window."""
        return bool(self.window_db(start, length).max() >= threshold_db)

    def active_starts(self, total: int, length: int, stride: int, threshold_db: float) -> list[int]:
        """Starts on a ``stride`` grid whose window fits in ``total`` and is not all silent."""
        return [s for s in range(0, total - length + 1, stride) if self.is_active(s, length, threshold_db)]
