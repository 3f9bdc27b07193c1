"""`jen-composer bench --only demo`: the demo's stage times beside the machine speed of the same run."""

from __future__ import annotations

import pytest

from benchmarks.demo import run_benchmarks


@pytest.mark.slow
def test_demo_bench_rows_at_toy_size() -> None:
    rows = {r.benchmark: r for r in run_benchmarks(quick=True)}
    stages = ["render", "autoencoder", "encode", "composer", "generate", "score"]
    assert list(rows) == ["demo: total", *(f"demo: {s}" for s in stages), "demo: machine speed"]
    assert rows["demo: total"].value == pytest.approx(sum(rows[f"demo: {s}"].value for s in stages))
    assert rows["demo: machine speed"].unit == "GFLOP/s" and rows["demo: machine speed"].value > 0
    assert "GFLOP/s" in rows["demo: total"].note
