"""An import round's audio: the user's file as a take, loudness-matched to the session's other takes.

The original bytes are stored in the session folder (``imports/``) so the round can be audited
and replayed; ``importer.load_user_audio`` does the decoding and every check of the file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jen_composer.composition.audio import rms_db
from jen_composer.composition.importer import load_user_audio, sanitize_filename

if TYPE_CHECKING:
    from jen_composer.composition.session import Session


def import_take(session: Session, track: str, source: str | os.PathLike[str] | bytes, name: str | None,
                index: int) -> tuple[np.ndarray, dict[str, Any]]:
    """(the take ``[C, S]``, the round's ``source`` record); stores the original as round ``index``'s upload."""
    display = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    cfg = session.cfg.imports
    levels = [rms_db(session.take(t)) for t in session.tracks if t in session.takes and t != track]
    levels = [level for level in levels if level > cfg.silence_db]
    reference = float(np.mean(levels)) if levels else None
    audio = load_user_audio(source, name=display, sample_rate=session.sample_rate,
                            channels=int(session.state["channels"]), num_samples=session.num_samples,
                            reference_db=reference, cfg=cfg)
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    stored = Path("imports") / f"{index:04d}_{track}_{sanitize_filename(display)}"
    session.store.write_file(stored, raw)
    info = {"name": sanitize_filename(display), "sha256": hashlib.sha256(raw).hexdigest(),
            "stored": stored.as_posix(), "reference_db": reference}
    return audio, info
