"""The ablation manifest (`experiments/ablations/table2.yaml`): rows, seeds, shared overrides, columns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AblationRow:
    label: str = ""  # the row's name in the table
    experiment: str = ""  # experiment file, relative to the repository root


@dataclass
class AblationManifest:
    title: str = "Ablations"
    rows: list[AblationRow] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    overrides: list[str] = field(default_factory=list)  # key=value applied to every row
    # evaluation.* overrides applied when scoring only: they leave the rows' training (and run ids)
    # alone, so a second manifest can score the same trained rows on another task
    evaluation_overrides: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=lambda: ["clap/mix"])  # <group>/<key> of SystemResult
