"""A deterministic stand-in for the generation engine: sessions, replay, the CLI loop and the studio
are tested against it without any model weights."""

from __future__ import annotations

import hashlib
import threading
import time

import numpy as np

from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import ProgressFn

_BANDS = {"bass": (40.0, 110.0), "drums": (0.0, 0.0), "instrument": (180.0, 420.0), "melody": (440.0, 1000.0)}


def _digest(*parts: object) -> int:
    """A stable 63-bit number from strings/arrays (python's hash() is salted per process)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part, dtype=np.float32).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return int.from_bytes(h.digest()[:8], "little") >> 1


class FakeEngine:
    """Seeded tones and clicks: output depends on seed, prompt, settings and the kept audio.

    Deterministic across processes, so replay tests can demand bit-identical audio. ``step_delay``
    sleeps per step to exercise progress reporting and concurrency in the studio; while ``gate`` is
    cleared, every step waits for it (a job held mid-way, without a race against the wall clock).
    """

    def __init__(
        self,
        tracks: list[str] | None = None,
        sample_rate: int = 16000,
        channels: int = 1,
        step_delay: float = 0.0,
        mix_track: bool = False,
        gate: threading.Event | None = None,
    ) -> None:
        self.tracks = list(tracks or ["bass", "drums", "instrument", "melody"])
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.step_delay = float(step_delay)
        self.gate = gate
        self.mix_track = bool(mix_track)  # takes kept["mix"], like a composer trained with composer.mix_track
        self.checkpoint = "fake"
        self.cfg = None
        self.calls: list[dict[str, object]] = []

    def _tone(self, track: str, n: int, rng: np.random.Generator) -> np.ndarray:
        t = np.arange(n, dtype=np.float64) / self.sample_rate
        if track == "drums" or track not in _BANDS:
            out = np.zeros(n)
            period = int(self.sample_rate * rng.uniform(0.2, 0.5))
            click = np.exp(-np.arange(min(400, n)) / 60.0) * rng.uniform(0.3, 0.8)
            for start in range(int(rng.integers(0, period)), n, period):
                seg = out[start : start + click.size]
                seg += click[: seg.size] * rng.choice([-1.0, 1.0])
            return out
        lo, hi = _BANDS[track]
        freq = rng.uniform(lo, hi)
        wobble = 1.0 + 0.01 * np.sin(2 * np.pi * rng.uniform(0.5, 3.0) * t)
        env = 0.5 + 0.5 * np.abs(np.sin(2 * np.pi * rng.uniform(0.5, 2.0) * t))
        return rng.uniform(0.1, 0.4) * env * np.sin(2 * np.pi * freq * wobble * t)

    def _new(self, track: str, n: int, key: int) -> np.ndarray:
        rng = np.random.default_rng(key)
        mono = self._tone(track, n, rng)
        chans = [mono * (1.0 - 0.1 * c) for c in range(self.channels)]
        return np.stack(chans).astype(np.float32)

    def generate(
        self,
        prompt: str,
        kept: dict[str, np.ndarray],
        generate: list[str],
        *,
        seconds: float,
        seed: int,
        settings: SamplerSettings,
        reimagine: dict[str, float] | None = None,
        region: tuple[str, float, float] | None = None,
        progress: ProgressFn | None = None,
    ) -> dict[str, np.ndarray]:
        n = int(round(seconds * self.sample_rate))
        unknown = [t for t in [*kept, *generate] if t not in self.tracks and not (self.mix_track and t == "mix" and t in kept)]
        if unknown:
            raise ValueError(f"unknown tracks {unknown}; engine tracks are {self.tracks}")
        self.calls.append({"prompt": prompt, "kept": sorted(kept), "generate": list(generate), "seed": seed})
        steps = settings.steps
        for i in range(steps):
            if self.gate is not None and not self.gate.wait(timeout=60.0):
                raise TimeoutError("FakeEngine: the gate stayed closed for 60 s")
            if self.step_delay:
                time.sleep(self.step_delay)
            if progress is not None:
                progress(i + 1, steps)
        cond = [kept[k] for k in sorted(kept)]
        base = _digest(seed, prompt, sorted(settings.to_dict().items()), sorted(kept), *cond)
        out = {t: self._new(t, n, _digest(base, t)) for t in generate}
        for track, strength in (reimagine or {}).items():
            fresh = self._new(track, n, _digest(base, "reimagine", track, strength))
            out[track] = ((1.0 - strength) * kept[track] + strength * fresh).astype(np.float32)
        if region is not None:
            track, start_s, end_s = region
            a, b = int(round(start_s * self.sample_rate)), int(round(end_s * self.sample_rate))
            fresh = self._new(track, n, _digest(base, "region", track, a, b))
            full = kept[track].copy()
            full[:, a:b] = fresh[:, a:b]
            out[track] = full
        return out
