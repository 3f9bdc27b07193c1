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
    # key=value applied to every row; evaluation.* keys are not part of a run id, so a second manifest
    # with other evaluation.* overrides scores the same trainings (reused, not repeated)
    overrides: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=lambda: ["clap/mix"])  # <group>/<key> of SystemResult
