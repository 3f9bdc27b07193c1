"""The round-latency benchmark returns one row per round kind and says which engine it timed."""

from __future__ import annotations

import pytest

from benchmarks.composition import run_benchmarks


def test_bench_rows_with_fake_engine() -> None:
    rows = run_benchmarks(quick=True, seconds=0.5, steps=2)
    assert [r.benchmark for r in rows] == ["composition: generate all", "composition: regenerate two"]
    assert all(r.value > 0 and r.unit == "s/round" and "FakeEngine" in r.note for r in rows)
    assert "2 steps" in rows[0].config


def test_bench_outside_a_checkout_is_one_clear_error(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import jen_composer
    from jen_composer.cli import bench_cmd
    from jen_composer.core.errors import JenComposerError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(jen_composer, "__file__", str(tmp_path / "site-packages" / "jen_composer" / "__init__.py"))
    with pytest.raises(JenComposerError, match="run `jen-composer bench` from a jen-composer source checkout"):
        bench_cmd.benchmark_modules()
