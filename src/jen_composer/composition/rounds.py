"""One round of co-composition: its record (as stored in session.json) and how to run it.

The same ``execute_round`` serves a live session and ``replay``, so a replay runs exactly the
engine calls the session ran, with the recorded seeds and settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from jen_composer.composition.audio import splice_region
from jen_composer.core.errors import JenComposerError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import Engine, ProgressFn

OPS = ("generate", "import", "reimagine", "region", "undo")


@dataclass
class Round:
    """What happened in one round; ``takes``/``kept_after`` are the session state it left behind."""

    index: int
    op: str
    prompt: str
    kept: list[str]  # kept set when the round started
    generated: list[str]  # tracks this round wrote a new take for
    takes: dict[str, int]  # after the round: track -> round whose file is the current take
    kept_after: list[str]
    state_of: int  # the round whose state this is (an undo points back)
    seed: int | None = None
    settings: dict[str, Any] | None = None  # SamplerSettings.to_dict() of a generating round
    seconds: float | None = None
    checkpoint: str | None = None
    inputs: dict[str, int] = field(default_factory=dict)  # engine inputs: track -> round of that take
    reimagine: dict[str, float] | None = None
    region: list[Any] | None = None  # [track, start_s, end_s]
    crossfade_ms: float | None = None
    source: dict[str, Any] | None = None  # import: original name, sha256, stored copy
    target: int | None = None  # undo: the round restored
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Round:
        return cls(**data)


def derive_seed(base_seed: int, index: int) -> int:
    """Round r's default seed: distinct per round, reproducible from the session's base seed."""
    return (int(base_seed) * 1_000_003 + int(index)) % 2**31


def _check(out: dict[str, np.ndarray], expected: list[str], shape: tuple[int, int], ckpt: str) -> None:
    for track in expected:
        if track not in out:
            raise JenComposerError(f"engine '{ckpt}' returned no audio for '{track}'")
        audio = out[track]
        if audio.shape != shape:
            raise JenComposerError(f"engine '{ckpt}' returned {track} with shape {audio.shape}, expected {shape}")
        if not np.isfinite(audio).all():
            raise JenComposerError(f"engine '{ckpt}' returned NaN/inf samples for '{track}'")


def execute_round(
    engine: Engine, rnd: Round, inputs: dict[str, np.ndarray], progress: ProgressFn | None = None
) -> dict[str, np.ndarray]:
    """Run the engine for a generating round; returns the new take of every track in ``rnd.generated``."""
    if rnd.op not in ("generate", "reimagine", "region"):
        raise ValueError(f"round {rnd.index} ({rnd.op}) does not run the engine")
    assert rnd.seconds is not None and rnd.seed is not None
    n = int(round(rnd.seconds * engine.sample_rate))
    shape = (engine.channels, n)
    kw: dict[str, Any] = dict(seconds=rnd.seconds, seed=rnd.seed, settings=SamplerSettings.from_dict(rnd.settings or {}),
                              progress=progress)
    if rnd.op == "generate":
        out = engine.generate(rnd.prompt, inputs, list(rnd.generated), **kw)
    elif rnd.op == "reimagine":
        out = engine.generate(rnd.prompt, inputs, [], reimagine=dict(rnd.reimagine or {}), **kw)
    else:
        track, start, end = rnd.region or ["", 0.0, 0.0]
        out = engine.generate(rnd.prompt, inputs, [], region=(track, float(start), float(end)), **kw)
        a, b = int(round(start * engine.sample_rate)), int(round(end * engine.sample_rate))
        fade = int(round((rnd.crossfade_ms or 0.0) / 1000.0 * engine.sample_rate))
        region_audio = out.get(track)
        if region_audio is None:
            raise JenComposerError(f"engine '{engine.checkpoint}' returned no audio for region of '{track}'")
        out = {track: splice_region(inputs[track], np.asarray(region_audio, dtype=np.float32), a, b, fade)}
    out = {t: np.ascontiguousarray(out[t], dtype=np.float32) for t in rnd.generated if t in out}
    _check(out, list(rnd.generated), shape, engine.checkpoint)
    return out
