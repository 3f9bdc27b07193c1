"""Report writers: Table 1 layout in Markdown, JSON round trip, one PNG per track."""

from __future__ import annotations

import json
from pathlib import Path

from jen_composer.metrics.report import SystemResult, markdown_table, write_report

TRACKS = ["bass", "drums", "instrument", "melody"]


def _rows() -> list[SystemResult]:
    clap = {"bass": 0.21, "drums": 0.18, "instrument": 0.29, "melody": 0.36, "mix": 0.39}
    return [
        SystemResult("JEN-1 Composer", clips=8, clap=clap, seeds=[0, 1],
                     fad={"mix": {"fad": 1.234, "clips": 8, "reference_clips": 20, "fad_inf": None}},
                     coherence={"beat_sync": 0.9}),
        SystemResult("MusicGen", clips=8, clap={**clap, "drums": float("nan")}, seeds=[0],
                     rpr={"rpr": 0.36, "low": 0.3, "high": 0.42, "comparisons": 100}),
    ]


def test_markdown_table_layout() -> None:
    table = markdown_table(_rows(), TRACKS)
    lines = table.strip().splitlines()
    assert lines[0].startswith("| Method | CLAP Bass | CLAP Drums | CLAP Instrument | CLAP Melody | CLAP Mixed |")
    assert "FAD Mixed" in lines[0] and "Beat sync" in lines[0] and "RPR Mixed" in lines[0]
    assert "| JEN-1 Composer | 0.21 | 0.18 | 0.29 | 0.36 | 0.39 | 1.23 | 0.90 | - | 8 | 0,1 |" in table
    assert "| MusicGen | 0.21 | - |" in table and "36% [30, 42]" in table


def test_write_report_files(tmp_path: Path) -> None:
    paths = write_report(_rows(), tmp_path, TRACKS, title="t")
    data = json.loads(paths["json"].read_text())
    assert SystemResult.from_dict(data["results"][0]).clap["mix"] == 0.39
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == sorted(f"clap_{t}.png" for t in [*TRACKS, "mix"])
    assert paths["plot_mix"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
