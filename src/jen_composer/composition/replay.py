"""Re-run a session's history with its recorded seeds and settings and compare every take.

Generated takes are recomputed from the replayed (not the stored) conditioning audio, so a clean
report means the whole session is reproducible from its prompt, imports, seeds and checkpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from jen_composer.composition.rounds import execute_round
from jen_composer.composition.session import Session
from jen_composer.inference.engine import Engine


@dataclass
class ReplayReport:
    rounds: int = 0  # rounds that ran the engine
    takes: int = 0  # generated takes compared
    mismatches: list[str] = field(default_factory=list)  # "round 3 bass: max |diff| 1.2e-03"
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.mismatches


def replay(session_dir: str | os.PathLike[str], engine: Engine) -> ReplayReport:
    """Replay every round of the session in ``session_dir`` with ``engine``; nothing is written."""
    session = Session.open(session_dir, engine)
    report = ReplayReport()
    audio: dict[tuple[int, str], np.ndarray] = {}
    for rnd in session.rounds:
        if rnd.op == "import":
            for t in rnd.generated:
                audio[(rnd.index, t)] = session.take(t, rnd.index)
            continue
        if rnd.op == "undo":
            continue
        if rnd.checkpoint != engine.checkpoint:
            report.notes.append(f"round {rnd.index} used checkpoint {rnd.checkpoint!r}, replaying with "
                                f"{engine.checkpoint!r}")
        inputs = {t: audio[(r, t)] for t, r in rnd.inputs.items()}
        out = execute_round(engine, rnd, inputs)
        report.rounds += 1
        for t, wave in out.items():
            audio[(rnd.index, t)] = wave
            stored = session.take(t, rnd.index)
            report.takes += 1
            if not np.array_equal(wave, stored):
                diff = float(np.max(np.abs(wave.astype(np.float64) - stored)))
                report.mismatches.append(f"round {rnd.index} {t}: max |diff| {diff:.3g}")
    return report
