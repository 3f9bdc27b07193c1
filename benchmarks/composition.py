"""Seconds per co-composition round (generate all; regenerate two tracks given two kept ones).

``jen-composer bench --only composition`` calls ``run_benchmarks(quick)``; point it at a real
checkpoint with ``ckpt`` (or ``python -m benchmarks.composition --ckpt PATH``). Without a
checkpoint the FakeEngine (tests/fakes) is timed, which measures session overhead only, and the note says so.
Timings include what a user waits for: engine call, take files and session.json writes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import BenchRow
from jen_composer.composition.session import Session
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import Engine, load_engine
from tests.fakes import FakeEngine


def run_benchmarks(
    quick: bool = False, ckpt: str | None = None, seconds: float | None = None, steps: int | None = None
) -> list[BenchRow]:
    engine: Engine = load_engine(ckpt) if ckpt else FakeEngine()
    secs = CompositionConfig().seconds if seconds is None else seconds
    settings = SamplerSettings().replace(steps=steps)
    repeats = 1 if quick else 3
    note = f"checkpoint {ckpt}" if ckpt else "FakeEngine (no checkpoint given): session overhead only"
    config = f"{len(engine.tracks)} tracks, {secs:g} s, {engine.sample_rate} Hz, {settings.name} {settings.steps} steps"
    times: dict[str, list[float]] = {"generate all": [], "regenerate two": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats + 1):  # the first repetition warms up (imports, caches)
            s = Session.create(Path(tmp) / f"s{r}", engine, "bench: upbeat pop", seconds=secs, seed=r,
                               settings=settings)
            t0 = time.perf_counter()
            s.generate_all()
            t1 = time.perf_counter()
            s.keep(*engine.tracks[: len(engine.tracks) - 2])
            t2 = time.perf_counter()
            s.regenerate()
            t3 = time.perf_counter()
            if r:
                times["generate all"].append(t1 - t0)
                times["regenerate two"].append(t3 - t2)
    rows = []
    for name, values in times.items():
        values.sort()
        rows.append(BenchRow(f"composition: {name}", config, values[len(values) // 2], "s/round", note))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ckpt", help="composer checkpoint (default: the FakeEngine)")
    p.add_argument("--seconds", type=float)
    p.add_argument("--steps", type=int)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    for row in run_benchmarks(a.quick, a.ckpt, a.seconds, a.steps):
        print(f"{row.benchmark:<36} {row.value:8.3f} {row.unit}  [{row.config}] {row.note}")


if __name__ == "__main__":
    main()
