"""The round-latency benchmark returns one row per round kind and says which engine it timed."""

from __future__ import annotations

from jen_composer.composition.bench import run_benchmarks
from jen_composer.composition.engine import Engine, FakeEngine


def test_bench_rows_with_fake_engine() -> None:
    rows = run_benchmarks(quick=True, seconds=0.5, steps=2)
    assert [r.benchmark for r in rows] == ["composition: generate all", "composition: regenerate two"]
    assert all(r.value > 0 and r.unit == "s/round" and "FakeEngine" in r.note for r in rows)
    assert "2 steps" in rows[0].config and isinstance(FakeEngine(), Engine)
