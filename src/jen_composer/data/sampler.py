"""A training sampler whose epoch is part of every index, so crops are a function of (seed, epoch, item).

Random crops and prompt dropout then do not depend on global RNG state, on DataLoader prefetching or
on the number of workers, and a run resumed at an epoch boundary draws exactly what an uninterrupted
one would. Indices are `epoch * n + i`; `SnippetDataset` splits them back with `divmod`.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochSeededSampler(Sampler[int]):
    def __init__(self, n: int, seed: int, shuffle: bool = True, epoch: int = 0, skip: int = 0) -> None:
        self.n, self.seed, self.shuffle = n, seed, shuffle
        self._epoch = epoch
        self._skip = skip  # indices already consumed in `epoch` before a resume (used once)

    def set_epoch(self, epoch: int) -> None:
        """Lightning calls this at every epoch start (and on resume, with the restored epoch)."""
        self._epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        epoch = self._epoch
        self._epoch += 1  # advances on its own when wrapped (DDP) and set_epoch is not forwarded
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 7_919 + epoch)) \
            if self.shuffle else torch.arange(self.n)
        skip, self._skip = self._skip, 0
        return iter((epoch * self.n + order[skip:]).tolist())
