"""Benchmark rows and timing. Each layer's ``bench.py`` returns rows; `jen-composer bench` prints them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class BenchRow:
    benchmark: str  # e.g. "data: snippets from audio"
    config: str  # e.g. "tiny, 16 kHz mono, 2.048 s"
    value: float
    unit: str  # e.g. "snippets/s"
    note: str = ""


def time_call(fn: Callable[[], object], repeats: int = 3, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]

