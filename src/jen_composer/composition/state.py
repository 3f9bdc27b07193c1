"""What a session is, as data: the state dict stored in ``session.json`` and pure rules on it.

No files, no locks, no engine calls here: ``store.SessionStore`` persists this dict and
``session.Session`` changes it one round at a time.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any

from jen_composer.composition.store import FORMAT
from jen_composer.core.errors import JenComposerError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import Engine


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class MixState:
    gain_db: dict[str, float] = field(default_factory=dict)
    mute: list[str] = field(default_factory=list)
    solo: list[str] = field(default_factory=list)


def new_state(engine: Engine, prompt: str, seconds: float, seed: int, settings: SamplerSettings) -> dict[str, Any]:
    """The state of a session with no rounds yet (``seconds`` already checked against the config)."""
    return {
        "format": FORMAT,
        "created": now(),
        "checkpoint": engine.checkpoint,
        "tracks": list(engine.tracks),
        "sample_rate": int(engine.sample_rate),
        "channels": int(engine.channels),
        "seconds": float(seconds),
        "seed": int(seed),
        "prompt": str(prompt),
        "settings": settings.to_dict(),
        "kept": [],
        "takes": {},
        "mix": asdict(MixState()),
        "rounds": [],
    }


def check_engine(state: dict[str, Any], engine: Engine, source: str) -> None:
    """A session can only continue on an engine with its tracks, sample rate and channels."""
    for key, have in (("tracks", list(engine.tracks)), ("sample_rate", engine.sample_rate),
                      ("channels", engine.channels)):
        if state[key] != have:
            raise JenComposerError(f"{source}: session {key} {state[key]!r} do not match the engine's {have!r}")


def undo_target(rounds: list[dict[str, Any]], to_round: int | None) -> tuple[int, dict[str, int], list[str], int]:
    """(target round, its takes, its kept set, the round whose state that is); None = one step back."""
    if to_round is None:
        if not rounds:
            raise JenComposerError("nothing to undo: the session has no rounds")
        to_round = int(rounds[-1]["state_of"]) - 1
    if not 0 <= to_round <= len(rounds):
        raise JenComposerError(f"undo target must be a round between 0 and {len(rounds)}, got {to_round}")
    if to_round == 0:
        return 0, {}, [], 0
    target = rounds[to_round - 1]
    return to_round, dict(target["takes"]), list(target["kept_after"]), int(target["state_of"])
