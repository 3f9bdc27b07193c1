"""A rank-aware training sampler whose epoch is part of every index, so crops are a function of (seed, epoch, item).

Random crops and prompt dropout then do not depend on global RNG state, on DataLoader prefetching or
on the number of workers. Indices are `epoch * n + i`; `SnippetDataset` splits them back with `divmod`.

Every rank draws the same permutation and takes every `world`-th item of it (padded so that all ranks
see the same number of batches), so the data order needs no wrapper from Lightning
(`use_distributed_sampler=False`) and a run resumed mid-epoch skips exactly the items each rank
already consumed -- on one process or many.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochSeededSampler(Sampler[int]):
    def __init__(self, n: int, seed: int, shuffle: bool = True, rank: int = 0, world: int = 1) -> None:
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is not in a world of {world}")
        self.n, self.seed, self.shuffle, self.rank, self.world = n, seed, shuffle, rank, world
        self._epoch = 0
        self._skip_epoch, self._skip = -1, 0  # items this rank already consumed in `_skip_epoch` (a resume)

    def set_epoch(self, epoch: int) -> None:
        """Lightning calls this at every epoch start (and on resume, with the restored epoch)."""
        self._epoch = int(epoch)

    def resume_at(self, epoch: int, items_done: int) -> None:
        """Skip the first `items_done` items of this rank's share of `epoch` (once); a finished epoch skips nothing."""
        self._skip_epoch, self._skip = int(epoch), int(items_done) if items_done < len(self) else 0

    def __len__(self) -> int:
        return math.ceil(self.n / self.world)

    def __iter__(self) -> Iterator[int]:
        epoch = self._epoch
        self._epoch += 1  # the next epoch, should nobody call set_epoch
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 7_919 + epoch)) \
            if self.shuffle else torch.arange(self.n)
        padded = len(self) * self.world
        order = torch.cat([order, order[: padded - self.n]])[self.rank :: self.world]
        skip = self._skip if epoch == self._skip_epoch else 0
        self._skip_epoch, self._skip = -1, 0
        return iter((epoch * self.n + order[skip:]).tolist())
