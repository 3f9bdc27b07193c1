"""Co-composition sessions (Algorithm 1 of the paper) saved as a folder that can be reopened.

Layout of a session folder::

    session.json                 state + full history of rounds (rewritten atomically)
    rounds/0003/drums.wav        the take(s) a round produced (float32 WAV, never rewritten)
    imports/0004_melody_x.wav    the user's original upload, byte for byte

A take is a reference (track -> round), so kept tracks always point at the very file that was
generated or imported; export copies those bytes, it never re-encodes them.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import os
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.composition.audio import mix_tracks, read_take, rms_db, write_take
from jen_composer.composition.importer import load_user_audio, sanitize_filename
from jen_composer.composition.rounds import Round, derive_seed, execute_round
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import JenComposerError
from jen_composer.core.io import atomic_path, atomic_write_json
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import Engine, ProgressFn

FORMAT = 1
STATE_FILE = "session.json"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class MixState:
    gain_db: dict[str, float] = field(default_factory=dict)
    mute: list[str] = field(default_factory=list)
    solo: list[str] = field(default_factory=list)


class Session:
    """A co-composition session bound to a folder; every mutation is saved before it returns.

    All public methods hold ``self.lock`` so concurrent callers (studio requests) serialise.
    ``engine`` may be None for read-only use (inspecting, mixing, exporting).
    """

    def __init__(self, root: Path, state: dict[str, Any], engine: Engine | None, cfg: CompositionConfig) -> None:
        self.root = Path(root)
        self.state = state
        self.engine = engine
        self.cfg = cfg
        self.lock = threading.RLock()  # held for a whole operation, engine call included
        self._state_lock = threading.Lock()  # held only while the in-memory state changes
        self._cache: dict[tuple[int, str], np.ndarray] = {}
        self._hashes: dict[tuple[int, str], str] = {}

    # ---------------------------------------------------------------- create / open / save
    @classmethod
    def create(
        cls,
        root: str | os.PathLike[str],
        engine: Engine,
        prompt: str,
        *,
        seconds: float | None = None,
        seed: int | None = None,
        settings: SamplerSettings | None = None,
        cfg: CompositionConfig | None = None,
    ) -> Session:
        cfg = cfg or CompositionConfig()
        root = Path(root)
        if (root / STATE_FILE).exists():
            raise JenComposerError(f"{root}: a session already exists here (open it instead)")
        secs = float(cfg.seconds if seconds is None else seconds)
        if not 0.1 <= secs <= 600:
            raise JenComposerError(f"seconds must lie in [0.1, 600], got {secs}")
        state = {
            "format": FORMAT,
            "created": _now(),
            "checkpoint": engine.checkpoint,
            "tracks": list(engine.tracks),
            "sample_rate": int(engine.sample_rate),
            "channels": int(engine.channels),
            "seconds": secs,
            "seed": int(cfg.seed if seed is None else seed),
            "prompt": str(prompt),
            "settings": (settings or SamplerSettings()).to_dict(),
            "kept": [],
            "takes": {},
            "mix": asdict(MixState()),
            "rounds": [],
        }
        session = cls(root, state, engine, cfg)
        session.save()
        return session

    @classmethod
    def open(
        cls, root: str | os.PathLike[str], engine: Engine | None = None, cfg: CompositionConfig | None = None
    ) -> Session:
        root = Path(root)
        path = root / STATE_FILE
        if not path.is_file():
            raise JenComposerError(f"{root}: not a session folder (no {STATE_FILE})")
        try:
            state = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise JenComposerError(f"{path}: corrupt session file ({exc})") from None
        if state.get("format") != FORMAT:
            raise JenComposerError(f"{path}: unsupported session format {state.get('format')!r} (expected {FORMAT})")
        if engine is not None:
            for key, have in (("tracks", list(engine.tracks)), ("sample_rate", engine.sample_rate),
                              ("channels", engine.channels)):
                if state[key] != have:
                    raise JenComposerError(
                        f"{path}: session {key} {state[key]!r} do not match the engine's {have!r}"
                    )
        return cls(root, state, engine, cfg or CompositionConfig())

    def save(self) -> None:
        with self._state_lock:
            atomic_write_json(self.root / STATE_FILE, self.state)

    def snapshot(self) -> dict[str, Any]:
        """A consistent deep copy of the state that does not wait for a running generation."""
        with self._state_lock:
            return copy.deepcopy(self.state)

    # ---------------------------------------------------------------- read access
    @property
    def tracks(self) -> list[str]:
        return list(self.state["tracks"])

    @property
    def sample_rate(self) -> int:
        return int(self.state["sample_rate"])

    @property
    def num_samples(self) -> int:
        return int(round(self.state["seconds"] * self.sample_rate))

    @property
    def prompt(self) -> str:
        return str(self.state["prompt"])

    @property
    def kept(self) -> list[str]:
        return [t for t in self.tracks if t in self.state["kept"]]

    @property
    def takes(self) -> dict[str, int]:
        return dict(self.state["takes"])

    @property
    def rounds(self) -> list[Round]:
        return [Round.from_dict(r) for r in self.state["rounds"]]

    @property
    def settings(self) -> SamplerSettings:
        return SamplerSettings.from_dict(self.state["settings"])

    @property
    def mix_state(self) -> MixState:
        return MixState(**self.state["mix"])

    def take_path(self, track: str, round_index: int | None = None) -> Path:
        self._check_track(track)
        if round_index is None:
            if track not in self.state["takes"]:
                raise JenComposerError(f"track '{track}' has no take yet")
            round_index = int(self.state["takes"][track])
        return self.root / "rounds" / f"{round_index:04d}" / f"{track}.wav"

    def take(self, track: str, round_index: int | None = None) -> np.ndarray:
        path = self.take_path(track, round_index)
        key = (int(path.parent.name), track)
        if key not in self._cache:
            self._cache[key] = read_take(path)
        return self._cache[key]

    def take_sha256_of(self, track: str, round_index: int) -> str:
        """Hash of a take file (files never change once written, so the hash is cached)."""
        key = (int(round_index), f"sha256:{track}")
        if key not in self._hashes:
            self._hashes[key] = _sha256(self.take_path(track, round_index))
        return self._hashes[key]

    def take_sha256(self) -> dict[str, str]:
        """Current take hash of every track that has one (what export must reproduce)."""
        takes = dict(self.state["takes"])
        return {t: self.take_sha256_of(t, int(takes[t])) for t in self.tracks if t in takes}

    # ---------------------------------------------------------------- cheap edits
    def _check_track(self, track: str) -> None:
        if track not in self.state["tracks"]:
            raise JenComposerError(f"unknown track '{track}' (tracks: {', '.join(self.state['tracks'])})")

    def keep(self, *tracks: str) -> None:
        with self.lock:
            for t in tracks:
                self._check_track(t)
                if t not in self.state["takes"]:
                    raise JenComposerError(f"cannot keep '{t}': it has no take yet (generate or import it)")
            with self._state_lock:
                self.state["kept"] = [t for t in self.tracks if t in self.state["kept"] or t in tracks]
            self.save()

    def unkeep(self, *tracks: str) -> None:
        with self.lock:
            for t in tracks:
                self._check_track(t)
            with self._state_lock:
                self.state["kept"] = [t for t in self.state["kept"] if t not in tracks]
            self.save()

    def set_prompt(self, prompt: str) -> None:
        with self.lock:
            if not prompt.strip():
                raise JenComposerError("the prompt is empty")
            with self._state_lock:
                self.state["prompt"] = prompt
            self.save()

    def set_settings(self, **changes: Any) -> SamplerSettings:
        """Change some sampler settings (field names or ``SamplerSettings.ALIASES``; None = unchanged)."""
        with self.lock:
            new = self.settings.replace(changes)
            with self._state_lock:
                self.state["settings"] = new.to_dict()
            self.save()
            return new

    def set_gain(self, track: str, gain_db: float) -> None:
        with self.lock:
            self._check_track(track)
            if not -60.0 <= gain_db <= 24.0:
                raise JenComposerError(f"gain for '{track}' must lie in [-60, 24] dB, got {gain_db}")
            with self._state_lock:
                self.state["mix"]["gain_db"][track] = float(gain_db)
            self.save()

    def _flag(self, key: str, track: str, on: bool) -> None:
        with self.lock:
            self._check_track(track)
            flags = [t for t in self.state["mix"][key] if t != track] + ([track] if on else [])
            with self._state_lock:
                self.state["mix"][key] = [t for t in self.tracks if t in flags]
            self.save()

    def set_mute(self, track: str, on: bool = True) -> None:
        self._flag("mute", track, on)

    def set_solo(self, track: str, on: bool = True) -> None:
        self._flag("solo", track, on)

    def mix(self) -> np.ndarray:
        with self.lock:
            takes = {t: self.take(t) for t in self.tracks if t in self.state["takes"]}
            m = self.mix_state
            return mix_tracks(takes, m.gain_db, set(m.mute), set(m.solo))

    # ---------------------------------------------------------------- rounds
    def _engine(self) -> Engine:
        if self.engine is None:
            raise JenComposerError(f"{self.root}: session was opened without an engine (pass --ckpt)")
        return self.engine

    def _new_round(self, op: str, **kw: Any) -> Round:
        index = len(self.state["rounds"]) + 1
        base = dict(index=index, op=op, prompt=self.prompt, kept=self.kept, generated=[],
                    takes=self.takes, kept_after=self.kept, state_of=index, created=_now())
        base.update(kw)
        return Round(**base)

    def _generating_round(self, op: str, generated: list[str], seed: int | None, **kw: Any) -> Round:
        engine = self._engine()
        index = len(self.state["rounds"]) + 1
        return self._new_round(
            op, generated=generated, seed=derive_seed(self.state["seed"], index) if seed is None else int(seed),
            settings=dict(self.state["settings"]), seconds=float(self.state["seconds"]),
            checkpoint=engine.checkpoint, **kw,
        )

    def _commit(self, rnd: Round, audio: dict[str, np.ndarray]) -> Round:
        """Write the round's audio, then the state: a crash leaves the previous session.json valid."""
        for track, wave in audio.items():
            write_take(self.take_path(track, rnd.index), wave, self.sample_rate)
            self._cache[(rnd.index, track)] = wave
        rnd.takes = {**rnd.takes, **{t: rnd.index for t in audio}}
        with self._state_lock:
            self.state["rounds"].append(rnd.to_dict())
            self.state["takes"] = dict(rnd.takes)
            self.state["kept"] = list(rnd.kept_after)
        self.save()
        return rnd

    def _run(self, rnd: Round, progress: ProgressFn | None) -> Round:
        inputs = {t: self.take(t) for t in rnd.inputs}
        audio = execute_round(self._engine(), rnd, inputs, progress)
        return self._commit(rnd, audio)

    def generate_all(self, *, seed: int | None = None, progress: ProgressFn | None = None) -> Round:
        """Round 1 of Algorithm 1: every track from the prompt alone (clears the kept set)."""
        with self.lock:
            rnd = self._generating_round("generate", self.tracks, seed, kept=[], kept_after=[])
            return self._run(rnd, progress)

    def regenerate(self, *, seed: int | None = None, progress: ProgressFn | None = None) -> Round:
        """Generate every unkept track conditioned on the kept ones and the prompt."""
        with self.lock:
            kept = self.kept
            todo = [t for t in self.tracks if t not in kept]
            if not todo:
                raise JenComposerError("every track is kept: nothing to regenerate (unkeep a track first)")
            inputs = {t: int(self.state["takes"][t]) for t in kept}
            rnd = self._generating_round("generate", todo, seed, inputs=inputs)
            return self._run(rnd, progress)

    def reimagine(
        self, track: str, strength: float, *, seed: int | None = None, progress: ProgressFn | None = None
    ) -> Round:
        """A variation of a kept track; strength in (0, 1] (1 = almost new). Other takes condition it."""
        with self.lock:
            self._check_track(track)
            if track not in self.kept:
                raise JenComposerError(f"re-imagine works on kept tracks; keep '{track}' first")
            if not 0.0 < float(strength) <= 1.0:
                raise JenComposerError(f"re-imagine strength must lie in (0, 1], got {strength}")
            inputs = {t: int(r) for t, r in self.state["takes"].items()}
            rnd = self._generating_round("reimagine", [track], seed, inputs=inputs,
                                         reimagine={track: float(strength)})
            return self._run(rnd, progress)

    def regenerate_region(
        self, track: str, start: float, end: float, *, seed: int | None = None, progress: ProgressFn | None = None
    ) -> Round:
        """Regenerate ``[start, end)`` seconds of one take; audio outside stays bit-identical."""
        with self.lock:
            self._check_track(track)
            if track not in self.state["takes"]:
                raise JenComposerError(f"track '{track}' has no take yet: generate it before editing a region")
            secs = float(self.state["seconds"])
            if not 0.0 <= start < end <= secs:
                raise JenComposerError(f"region must satisfy 0 <= start < end <= {secs}, got {start}..{end}")
            inputs = {t: int(r) for t, r in self.state["takes"].items()}
            rnd = self._generating_round("region", [track], seed, inputs=inputs,
                                         region=[track, float(start), float(end)],
                                         crossfade_ms=float(self.cfg.crossfade_ms))
            return self._run(rnd, progress)

    def import_track(self, track: str, source: str | os.PathLike[str] | bytes, name: str | None = None) -> Round:
        """Add the user's audio as a kept take (resampled, length-aligned, loudness-matched)."""
        with self.lock:
            self._check_track(track)
            display = name or (Path(source).name if not isinstance(source, bytes) else "upload")
            others = [self.take(t) for t in self.tracks if t in self.state["takes"] and t != track]
            levels = [rms_db(a) for a in others if rms_db(a) > self.cfg.imports.silence_db]
            reference = float(np.mean(levels)) if levels else None
            audio = load_user_audio(
                source, name=display, sample_rate=self.sample_rate, channels=int(self.state["channels"]),
                num_samples=self.num_samples, reference_db=reference, cfg=self.cfg.imports,
            )
            raw = source if isinstance(source, bytes) else Path(source).read_bytes()
            index = len(self.state["rounds"]) + 1
            stored = Path("imports") / f"{index:04d}_{track}_{sanitize_filename(display)}"
            with atomic_path(self.root / stored) as tmp:
                tmp.write_bytes(raw)
            source_info = {"name": sanitize_filename(display), "sha256": hashlib.sha256(raw).hexdigest(),
                           "stored": stored.as_posix(), "reference_db": reference}
            kept_after = [t for t in self.tracks if t in self.state["kept"] or t == track]
            rnd = self._new_round("import", generated=[track], kept_after=kept_after, source=source_info)
            return self._commit(rnd, {track: audio})

    def undo(self, to_round: int | None = None) -> Round:
        """Restore the takes and kept set of an earlier round (0 = empty); recorded as a round itself."""
        with self.lock:
            rounds = self.state["rounds"]
            if to_round is None:
                if not rounds:
                    raise JenComposerError("nothing to undo: the session has no rounds")
                to_round = int(rounds[-1]["state_of"]) - 1
            if not 0 <= to_round <= len(rounds):
                raise JenComposerError(f"undo target must be a round between 0 and {len(rounds)}, got {to_round}")
            if to_round == 0:
                takes: dict[str, int] = {}
                kept: list[str] = []
                state_of = 0
            else:
                target = rounds[to_round - 1]
                takes, kept, state_of = dict(target["takes"]), list(target["kept_after"]), int(target["state_of"])
            rnd = self._new_round("undo", takes=takes, kept_after=kept, target=to_round, state_of=state_of)
            return self._commit(rnd, {})

    # ---------------------------------------------------------------- export
    def _export_files(self) -> Iterable[tuple[str, bytes]]:
        takes = [t for t in self.tracks if t in self.state["takes"]]
        if not takes:
            raise JenComposerError("nothing to export: the session has no takes yet")
        stems = {}
        for t in takes:
            data = self.take_path(t).read_bytes()
            stems[t] = hashlib.sha256(data).hexdigest()
            yield f"stems/{t}.wav", data
        from jen_composer.composition.audio import wav_bytes

        yield "mix.wav", wav_bytes(self.mix(), self.sample_rate, subtype="FLOAT")
        summary = {**self.state, "export": {"stems_sha256": stems, "exported": _now()}}
        yield STATE_FILE, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode()

    def export(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write ``stems/<track>.wav`` (the take files' exact bytes), ``mix.wav`` and ``session.json``."""
        with self.lock:
            out = Path(out_dir)
            for rel, data in self._export_files():
                with atomic_path(out / rel) as tmp:
                    tmp.write_bytes(data)
            return out

    def export_zip(self, path: str | os.PathLike[str]) -> Path:
        with self.lock:
            with atomic_path(path) as tmp:
                with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    for rel, data in self._export_files():
                        zf.writestr(rel, data)
            return Path(path)

    def summary(self) -> str:
        """A few human-readable lines for the terminal."""
        lines = [f"session {self.root}  prompt: {self.prompt!r}  rounds: {len(self.state['rounds'])}"]
        for t in self.tracks:
            take = self.state["takes"].get(t)
            mark = "kept" if t in self.state["kept"] else ("    " if take else "----")
            lines.append(f"  {t:<11} {mark}  take: {'round ' + str(take) if take else 'none'}")
        return "\n".join(lines)

