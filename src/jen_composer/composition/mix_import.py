"""A mix imported into a session: "separate this" and "add a bass that fits this mix".

The mix is stored as a take of the pseudo-track ``mix`` (never mixed into the session's own mix nor
exported as a stem). While the session holds one, every generating round gives it to the engine as
a condition, so generating every track from it separates it and generating some tracks fits them to
it (and to the kept stems). Only an engine whose composer has the mix track takes one; any other
refuses it in one line before anything is written.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jen_composer.composition.importer import _decode, sanitize_filename
from jen_composer.core.errors import JenComposerError
from jen_composer.core.tracks import MIX
from jen_composer.data.audio import fit_peak
from jen_composer.data.mix_input import condition_mix
from jen_composer.inference.mix_condition import NO_MIX_TRACK

if TYPE_CHECKING:
    from jen_composer.composition.rounds import Round
    from jen_composer.composition.session import Session


def engine_takes_mix(engine: Any) -> bool:
    """Whether an engine's composer was trained with the mix track (engines from before the option: no)."""
    return bool(getattr(engine, "mix_track", False))


def mix_inputs(state: dict[str, Any]) -> dict[str, int]:
    """The engine input a generating round adds for the session's imported mix (track -> round)."""
    return {MIX: int(state["takes"][MIX])} if MIX in state["takes"] else {}


def import_mix(session: Session, source: str | os.PathLike[str] | bytes, name: str | None = None) -> Round:
    """Store the user's mix (checked and fitted to the take by `condition_mix`) as the session's mix condition."""
    engine = session._engine()
    display = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    if not engine_takes_mix(engine):
        raise JenComposerError(f"{display}: {NO_MIX_TRACK}")
    audio, sr = _decode(source, display)
    tolerance = {"length_tolerance_s": float(engine.cfg.data.length_tolerance_seconds)} if engine.cfg is not None else {}
    audio, notes = condition_mix(audio, sr, sample_rate=session.sample_rate, channels=int(session.state["channels"]),
                                 samples=session.num_samples, name=display, **tolerance)
    audio, gain = fit_peak(audio, float(session.cfg.imports.peak_limit))
    if gain != 1.0:
        notes.append(f"{display}: scaled by {gain:.3f} to peak {session.cfg.imports.peak_limit}")
    index = len(session.state["rounds"]) + 1
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    stored = Path("imports") / f"{index:04d}_{MIX}_{sanitize_filename(display)}"
    session.store.write_file(stored, raw)
    info = {"name": sanitize_filename(display), "sha256": hashlib.sha256(raw).hexdigest(),
            "stored": stored.as_posix(), "notes": notes}
    rnd = session._new_round("import", generated=[MIX], source=info)
    return session._commit(rnd, {MIX: audio})
