"""The ablation table says whether a row differs from the first one: per-seed paired differences with
a Student-t interval, marked when it excludes 0; seeds only one row finished are not paired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy.stats import t

from jen_composer.core.config.ablation import AblationManifest, AblationRow
from jen_composer.metrics.report import SystemResult
from jen_composer.workflows.ablation_table import RowResult, differences, write_table


def _row(label: str, values: dict[int, float]) -> RowResult:
    results = [SystemResult(name=label, clips=4, clap={}, coherence={"harmonic_chords": v}, seeds=[0]) for v in values.values()]
    return RowResult(label, f"{label}.yaml", list(values), results)


def test_paired_differences_have_the_known_interval_and_mark_what_excludes_zero(tmp_path: Path) -> None:
    base = _row("baseline", {0: 0.30, 1: 0.31, 2: 0.32})
    better = _row("better", {0: 0.40, 1: 0.42, 2: 0.41})  # differences 0.10, 0.11, 0.09
    noisy = _row("noisy", {0: 0.25, 1: 0.36, 2: 0.30, 7: 0.9})  # seed 7 has no partner: left out
    d = differences(base, better, ["coherence/harmonic_chords"])["coherence/harmonic_chords"]
    half = t.ppf(0.975, 2) * 0.01 / 3**0.5  # sd of (0.10, 0.11, 0.09) is 0.01
    assert d.mean == pytest.approx(0.10) and d.half_width == pytest.approx(half) and d.excludes_zero()
    n = differences(base, noisy, ["coherence/harmonic_chords"])["coherence/harmonic_chords"]
    assert n.n == 3 and n.mean == pytest.approx((-0.05 + 0.05 - 0.02) / 3) and not n.excludes_zero()

    manifest = AblationManifest(title="T", rows=[AblationRow("baseline", "b.yaml")], columns=["coherence/harmonic_chords"])
    paths = write_table(manifest, [base, better, noisy], tmp_path, plot=False)
    md = paths["markdown"].read_text()
    assert "Difference from the first row (baseline)" in md
    assert "| better | +0.100 [" in md and md.split("| better | ")[-1].split("\n")[0].endswith(" * |")
    assert not md.split("| noisy | ")[-1].split("\n")[0].endswith(" * |")
    saved = json.loads(paths["json"].read_text())["differences_from_first_row"]
    assert saved["better"]["coherence/harmonic_chords"]["mean"] == pytest.approx(0.10) and saved.keys() == {"better", "noisy"}
