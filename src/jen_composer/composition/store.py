"""A session folder on disk: ``session.json`` written atomically, take files, read caches and locks.

Layout::

    session.json                 state + full history of rounds (rewritten atomically)
    rounds/0003/drums.wav        the take(s) a round produced (float32 WAV, never rewritten)
    imports/0004_melody_x.wav    the user's original upload, byte for byte

Take files never change once written, so their audio and hashes are cached per (round, track).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.composition.audio import read_take, write_take
from jen_composer.core.errors import JenComposerError
from jen_composer.core.io import atomic_path, atomic_write_json

FORMAT = 1
STATE_FILE = "session.json"


class SessionStore:
    """The state dict of one session folder and everything that reads or writes its files.

    ``lock`` is held by a session for a whole operation (engine call included), so concurrent
    callers serialise; ``edit()`` holds a second, short lock only while the state changes, so a
    snapshot never waits for a running generation.
    """

    def __init__(self, root: str | os.PathLike[str], state: dict[str, Any]) -> None:
        self.root = Path(root)
        self.state = state
        self.lock = threading.RLock()
        self._state_lock = threading.Lock()
        self._audio: dict[tuple[int, str], np.ndarray] = {}
        self._hashes: dict[tuple[int, str], str] = {}

    @classmethod
    def create(cls, root: str | os.PathLike[str], state: dict[str, Any]) -> SessionStore:
        store = cls(root, state)
        if (store.root / STATE_FILE).exists():
            raise JenComposerError(f"{store.root}: a session already exists here (open it instead)")
        store.save()
        return store

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> SessionStore:
        path = Path(root) / STATE_FILE
        if not path.is_file():
            raise JenComposerError(f"{root}: not a session folder (no {STATE_FILE})")
        try:
            state = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise JenComposerError(f"{path}: corrupt session file ({exc})") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            found = state.get("format") if isinstance(state, dict) else None
            raise JenComposerError(f"{path}: unsupported session format {found!r} (expected {FORMAT})")
        return cls(root, state)

    def save(self) -> None:
        with self._state_lock:
            atomic_write_json(self.root / STATE_FILE, self.state)

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        """Change the state in place, then save it (callers hold ``lock``)."""
        with self._state_lock:
            yield self.state
        self.save()

    def snapshot(self) -> dict[str, Any]:
        """A consistent deep copy of the state that does not wait for a running generation."""
        with self._state_lock:
            return copy.deepcopy(self.state)

    def take_path(self, track: str, round_index: int) -> Path:
        return self.root / "rounds" / f"{int(round_index):04d}" / f"{track}.wav"

    def read(self, track: str, round_index: int) -> np.ndarray:
        key = (int(round_index), track)
        if key not in self._audio:
            self._audio[key] = read_take(self.take_path(track, round_index))
        return self._audio[key]

    def write(self, track: str, round_index: int, audio: np.ndarray, sample_rate: int) -> None:
        write_take(self.take_path(track, round_index), audio, sample_rate)
        self._audio[(int(round_index), track)] = audio

    def sha256(self, track: str, round_index: int) -> str:
        key = (int(round_index), track)
        if key not in self._hashes:
            self._hashes[key] = hashlib.sha256(self.take_path(track, round_index).read_bytes()).hexdigest()
        return self._hashes[key]

    def write_file(self, rel: Path, data: bytes) -> None:
        """Any other file of the session (the user's original upload), atomically."""
        with atomic_path(self.root / rel) as tmp:
            tmp.write_bytes(data)
