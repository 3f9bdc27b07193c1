"""Studio sessions by id: each id is a folder under the sessions root, opened once per process.

Ids are generated here (uuid hex) and validated on every request, so a URL can never name a
folder outside the sessions root.
"""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path

from jen_composer.composition.session import Session
from jen_composer.composition.store import STATE_FILE
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import JenComposerError
from jen_composer.core.io import clean_stale_temps
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import Engine

_ID = re.compile(r"^[0-9a-f]{32}$")


class UnknownSession(JenComposerError):
    """The id is malformed or no such session exists (HTTP 404)."""


class SessionRegistry:
    def __init__(self, root: str | Path, engine: Engine, cfg: CompositionConfig,
                 settings: SamplerSettings | None = None) -> None:
        self.root = Path(root)
        self.engine = engine
        self.cfg = cfg
        self.settings = settings or SamplerSettings()  # what new sessions start with
        self._open: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, prompt: str, seconds: float | None = None, seed: int | None = None) -> tuple[str, Session]:
        if not prompt.strip():
            raise JenComposerError("the prompt is empty")
        sid = uuid.uuid4().hex
        session = Session.create(self.root / sid, self.engine, prompt, seconds=seconds, seed=seed,
                                 settings=self.settings, cfg=self.cfg)
        with self._lock:
            self._open[sid] = session
        return sid, session

    def get(self, sid: str) -> Session:
        if not _ID.match(sid or ""):
            raise UnknownSession(f"malformed session id {sid[:40]!r}")
        with self._lock:
            if sid not in self._open:
                if not (self.root / sid / STATE_FILE).is_file():
                    raise UnknownSession(f"no session {sid}")
                for folder in (self.root / sid, *(p for p in (self.root / sid).rglob("*") if p.is_dir())):
                    clean_stale_temps(folder)  # what a killed studio was writing when it died
                self._open[sid] = Session.open(self.root / sid, self.engine, self.cfg)
            return self._open[sid]

    def list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = [p.parent for p in self.root.glob(f"*/{STATE_FILE}") if _ID.match(p.parent.name)]
        return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]
