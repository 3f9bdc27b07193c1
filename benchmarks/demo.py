"""The demo's wall time per stage, with this machine's speed measured in the same run.

``jen-composer bench --only demo`` runs what ``make demo`` runs (``run_demo``: render, short
training runs, generation with the bundled weights, scores, results page) in a temporary folder,
and reports each stage's seconds beside the float32 matmul GFLOP/s measured at its start, so a
slow or busy machine is recognisable. ``--quick`` shrinks everything to toy size (plumbing only).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from benchmarks.common import BenchRow
from jen_composer.workflows.demo import run_demo

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["data.synth.songs=6", "data.synth.seconds=6", "trainer.max_steps=2", "trainer.val_check_interval=2"]


def run_benchmarks(quick: bool = False) -> list[BenchRow]:
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):  # the demo's relative paths land here
        result = run_demo(ROOT, QUICK if quick else [], log=lambda _: None, ae_overrides=QUICK if quick else [])
    config = "make demo, toy size (--quick)" if quick else "make demo"
    note = f"machine: {result.gflops:.0f} GFLOP/s, {os.cpu_count()} CPUs"
    rows = [BenchRow("demo: total", config, sum(result.seconds.values()), "s", note)]
    rows += [BenchRow(f"demo: {stage}", config, seconds, "s", note) for stage, seconds in result.seconds.items()]
    rows.append(BenchRow("demo: machine speed", "512x512 float32 matmul, same run", result.gflops, "GFLOP/s",
                         "measured at the demo's start"))
    return rows


if __name__ == "__main__":
    for row in run_benchmarks():
        print(f"{row.benchmark:<24} {row.value:9.1f} {row.unit:<8} {row.note}")
