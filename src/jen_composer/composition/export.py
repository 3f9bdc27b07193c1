"""Export a session: the take files' exact bytes, the mix and ``session.json``, as a folder or a zip."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from jen_composer.composition.audio import wav_bytes
from jen_composer.composition.state import now
from jen_composer.composition.store import STATE_FILE
from jen_composer.core.errors import JenComposerError
from jen_composer.core.io import atomic_path

if TYPE_CHECKING:
    from jen_composer.composition.session import Session


def export_files(session: Session) -> Iterable[tuple[str, bytes]]:
    """``(relative path, bytes)`` of every exported file; stems are never re-encoded."""
    state = session.snapshot()
    takes = [t for t in state["tracks"] if t in state["takes"]]
    if not takes:
        raise JenComposerError("nothing to export: the session has no takes yet")
    stems = {}
    for t in takes:
        data = session.take_path(t).read_bytes()
        stems[t] = hashlib.sha256(data).hexdigest()
        yield f"stems/{t}.wav", data
    yield "mix.wav", wav_bytes(session.mix(), session.sample_rate, subtype="FLOAT")
    summary = {**state, "export": {"stems_sha256": stems, "exported": now()}}
    yield STATE_FILE, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode()


def export_folder(session: Session, out_dir: str | os.PathLike[str]) -> Path:
    """``stems/<track>.wav``, ``mix.wav`` and ``session.json`` under ``out_dir``, each written atomically."""
    out = Path(out_dir)
    for rel, data in export_files(session):
        with atomic_path(out / rel) as tmp:
            tmp.write_bytes(data)
    return out


def export_zip(session: Session, path: str | os.PathLike[str]) -> Path:
    """The same files in one zip (what the studio's download button gets)."""
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for rel, data in export_files(session):
                zf.writestr(rel, data)
    return Path(path)
