"""Co-composition sessions (Algorithm 1 of the paper), saved in a folder that can be reopened.

A take is a reference (track -> round), so kept tracks always point at the very file that was
generated or imported; export copies those bytes, it never re-encodes them. The state is the dict
of ``state.py``, persisted by ``store.SessionStore``; every mutation is saved before it returns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.composition import export as exporting
from jen_composer.composition.audio import mix_tracks
from jen_composer.composition.importing import import_take
from jen_composer.composition.rounds import Round, derive_seed, execute_round
from jen_composer.composition.state import MixState, check_engine, new_state, now, undo_target
from jen_composer.composition.store import STATE_FILE, SessionStore
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import JenComposerError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import Engine, ProgressFn
from jen_composer.inference.windows import check_seconds


class Session:
    """A co-composition session bound to a folder.

    All public methods hold ``self.lock`` so concurrent callers (studio requests) serialise.
    ``engine`` may be None for read-only use (inspecting, mixing, exporting).
    """

    def __init__(self, store: SessionStore, engine: Engine | None, cfg: CompositionConfig) -> None:
        self.store = store
        self.engine = engine
        self.cfg = cfg
        self.lock = store.lock

    # ---------------------------------------------------------------- create / open
    @classmethod
    def create(cls, root: str | os.PathLike[str], engine: Engine, prompt: str, *, seconds: float | None = None,
               seed: int | None = None, settings: SamplerSettings | None = None,
               cfg: CompositionConfig | None = None) -> Session:
        cfg = cfg or CompositionConfig()
        length = check_seconds(cfg.seconds if seconds is None else seconds, cfg.max_seconds)
        state = new_state(engine, prompt, length,
                          int(cfg.seed if seed is None else seed), settings or SamplerSettings())
        return cls(SessionStore.create(root, state), engine, cfg)

    @classmethod
    def open(cls, root: str | os.PathLike[str], engine: Engine | None = None,
             cfg: CompositionConfig | None = None) -> Session:
        store = SessionStore.load(root)
        if engine is not None:
            check_engine(store.state, engine, str(store.root / STATE_FILE))
        return cls(store, engine, cfg or CompositionConfig())

    def snapshot(self) -> dict[str, Any]:
        return self.store.snapshot()

    # ---------------------------------------------------------------- read access
    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def state(self) -> dict[str, Any]:
        return self.store.state

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

    def _round_of(self, track: str, round_index: int | None) -> int:
        self._check_track(track)
        if round_index is not None:
            return int(round_index)
        if track not in self.state["takes"]:
            raise JenComposerError(f"track '{track}' has no take yet")
        return int(self.state["takes"][track])

    def take_path(self, track: str, round_index: int | None = None) -> Path:
        return self.store.take_path(track, self._round_of(track, round_index))

    def take(self, track: str, round_index: int | None = None) -> np.ndarray:
        return self.store.read(track, self._round_of(track, round_index))

    def take_sha256_of(self, track: str, round_index: int) -> str:
        """Hash of a take file (files never change once written, so the hash is cached)."""
        return self.store.sha256(track, self._round_of(track, round_index))

    def take_sha256(self) -> dict[str, str]:
        """Current take hash of every track that has one (what export must reproduce)."""
        takes = self.takes
        return {t: self.take_sha256_of(t, takes[t]) for t in self.tracks if t in takes}

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
            with self.store.edit() as s:
                s["kept"] = [t for t in self.tracks if t in s["kept"] or t in tracks]

    def unkeep(self, *tracks: str) -> None:
        with self.lock:
            for t in tracks:
                self._check_track(t)
            with self.store.edit() as s:
                s["kept"] = [t for t in s["kept"] if t not in tracks]

    def set_prompt(self, prompt: str) -> None:
        with self.lock:
            if not prompt.strip():
                raise JenComposerError("the prompt is empty")
            with self.store.edit() as s:
                s["prompt"] = prompt

    def set_settings(self, **changes: Any) -> SamplerSettings:
        """Change some sampler settings (field names or ``SamplerSettings`` aliases; None = unchanged)."""
        with self.lock:
            new = self.settings.replace(changes)
            with self.store.edit() as s:
                s["settings"] = new.to_dict()
            return new

    def set_gain(self, track: str, gain_db: float) -> None:
        with self.lock:
            self._check_track(track)
            if not -60.0 <= gain_db <= 24.0:
                raise JenComposerError(f"gain for '{track}' must lie in [-60, 24] dB, got {gain_db}")
            with self.store.edit() as s:
                s["mix"]["gain_db"][track] = float(gain_db)

    def _flag(self, key: str, track: str, on: bool) -> None:
        with self.lock:
            self._check_track(track)
            with self.store.edit() as s:
                flags = [t for t in s["mix"][key] if t != track] + ([track] if on else [])
                s["mix"][key] = [t for t in self.tracks if t in flags]

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
                    takes=self.takes, kept_after=self.kept, state_of=index, created=now())
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
            self.store.write(track, rnd.index, wave, self.sample_rate)
        rnd.takes = {**rnd.takes, **{t: rnd.index for t in audio}}
        with self.store.edit() as s:
            s["rounds"].append(rnd.to_dict())
            s["takes"] = dict(rnd.takes)
            s["kept"] = list(rnd.kept_after)
        return rnd

    def _run(self, rnd: Round, progress: ProgressFn | None) -> Round:
        inputs = {t: self.take(t) for t in rnd.inputs}
        return self._commit(rnd, execute_round(self._engine(), rnd, inputs, progress))

    def generate_all(self, *, seed: int | None = None, progress: ProgressFn | None = None) -> Round:
        """Round 1 of Algorithm 1: every track from the prompt alone (clears the kept set)."""
        with self.lock:
            return self._run(self._generating_round("generate", self.tracks, seed, kept=[], kept_after=[]), progress)

    def regenerate(self, *, seed: int | None = None, progress: ProgressFn | None = None) -> Round:
        """Generate every unkept track conditioned on the kept ones and the prompt."""
        with self.lock:
            kept = self.kept
            todo = [t for t in self.tracks if t not in kept]
            if not todo:
                raise JenComposerError("every track is kept: nothing to regenerate (unkeep a track first)")
            inputs = {t: int(self.state["takes"][t]) for t in kept}
            return self._run(self._generating_round("generate", todo, seed, inputs=inputs), progress)

    def reimagine(self, track: str, strength: float, *, seed: int | None = None,
                  progress: ProgressFn | None = None) -> Round:
        """A variation of a kept track; strength in (0, 1] (1 = almost new). Other takes condition it."""
        with self.lock:
            self._check_track(track)
            if track not in self.kept:
                raise JenComposerError(f"re-imagine works on kept tracks; keep '{track}' first")
            if not 0.0 < float(strength) <= 1.0:
                raise JenComposerError(f"re-imagine strength must lie in (0, 1], got {strength}")
            inputs = {t: int(r) for t, r in self.state["takes"].items()}
            rnd = self._generating_round("reimagine", [track], seed, inputs=inputs, reimagine={track: float(strength)})
            return self._run(rnd, progress)

    def regenerate_region(self, track: str, start: float, end: float, *, seed: int | None = None,
                          progress: ProgressFn | None = None) -> Round:
        """Regenerate ``[start, end)`` seconds of one take; audio outside stays bit-identical."""
        with self.lock:
            self._check_track(track)
            if track not in self.state["takes"]:
                raise JenComposerError(f"track '{track}' has no take yet: generate it before editing a region")
            secs = float(self.state["seconds"])
            if not 0.0 <= start < end <= secs:
                raise JenComposerError(f"region must satisfy 0 <= start < end <= {secs}, got {start}..{end}")
            inputs = {t: int(r) for t, r in self.state["takes"].items()}
            rnd = self._generating_round("region", [track], seed, inputs=inputs, region=[track, float(start), float(end)],
                                         crossfade_ms=float(self.cfg.crossfade_ms))
            return self._run(rnd, progress)

    def import_track(self, track: str, source: str | os.PathLike[str] | bytes, name: str | None = None) -> Round:
        """Add the user's audio as a kept take (resampled, length-aligned, loudness-matched to the others)."""
        with self.lock:
            self._check_track(track)
            audio, source_info = import_take(self, track, source, name, len(self.state["rounds"]) + 1)
            kept_after = [t for t in self.tracks if t in self.state["kept"] or t == track]
            rnd = self._new_round("import", generated=[track], kept_after=kept_after, source=source_info)
            return self._commit(rnd, {track: audio})

    def undo(self, to_round: int | None = None) -> Round:
        """Restore the takes and kept set of an earlier round (0 = empty); recorded as a round itself."""
        with self.lock:
            target, takes, kept, state_of = undo_target(self.state["rounds"], to_round)
            rnd = self._new_round("undo", takes=takes, kept_after=kept, target=target, state_of=state_of)
            return self._commit(rnd, {})

    # ---------------------------------------------------------------- export
    def export(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write ``stems/<track>.wav`` (the take files' exact bytes), ``mix.wav`` and ``session.json``."""
        with self.lock:
            return exporting.export_folder(self, out_dir)

    def export_zip(self, path: str | os.PathLike[str]) -> Path:
        with self.lock:
            return exporting.export_zip(self, path)
