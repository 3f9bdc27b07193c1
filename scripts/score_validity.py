"""Per-track score validity from a finished `validate-scores` run, without scoring the songs again.

Why: runs made before `validate-scores` wrote per-track rows and ``validity.json`` (2026-11-26) kept
every song's per-track scores in ``validation.json`` (``per_song``); this computes the same per-track
rows and record from them (the same functions `validate-scores` now calls) and prints the tables.
    python scripts/score_validity.py runs/validate-bench-v2/validation.json src/jen_composer/assets/score_validity.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.io import atomic_write_json
from jen_composer.metrics.validation import paired_rows
from jen_composer.metrics.validation_report import CONTROL_TITLES, table_lines, validity_record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("validation", type=Path, help="validation.json of a validate-scores run")
    ap.add_argument("out", type=Path, help="where to write the validity record (JSON)")
    ap.add_argument("--seed", type=int, default=None,
                    help="bootstrap seed (default: the run's, recorded in its meta since 2026-11-26; else evaluation.seed)")
    a = ap.parse_args()
    data = json.loads(a.validation.read_text())
    if "per_song" not in data or "meta" not in data:
        raise SystemExit(f"{a.validation}: not a validate-scores validation.json (no per_song / meta)")
    meta = data["meta"]
    seed = a.seed if a.seed is not None else int(meta.get("seed", EvaluationConfig.seed))
    per_track = {sc: paired_rows(songs, int(meta["bootstrap"]), seed, per_track=True)
                 for sc, songs in data["per_song"].items()}
    record = validity_record(per_track, meta) | {"source": str(a.validation)}
    atomic_write_json(a.out, record)
    head = ["score", "real", *CONTROL_TITLES.values(), "songs", "verdict"]
    for scenario, rows in per_track.items():
        print(f"#### {scenario}, each generated track alone\n")
        print("\n".join(table_lines(rows, head)) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
