"""Conditioning fit of the demo's generated pitched tracks, beside the same scores of their controls.

The conditional sample's instrument and melody were generated over a held-out song's drums + bass;
each is scored against that song's chord and beat labels and its kept stems (`metrics.clip_scores`,
the scoring path `evaluate` uses). The controls show what "no fit" reads on the same song: the same
weights' joint sample (no conditions) and their sample over another song's drums + bass, and the
generated tracks half a beat late, a tritone up, and as noise with their spectrum. A score passes
when the generated track beats every control.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from jen_composer.metrics import controls
from jen_composer.metrics.clip_scores import ClipAudio, fit_scores, song_labels
from jen_composer.workflows.demo_samples import DemoSamples
from jen_composer.workflows.evaluate import mono_at
from jen_composer.workflows.results_page import score_table

SAMPLE = "given_drums_bass"
SCORES = {"harmonic_chords": "harmonic fit: chord labels", "harmonic_stems": "harmonic fit: kept stems",
          "rhythm_drums": "rhythmic fit: kept drums", "rhythm_grid": "rhythmic fit: beat grid"}
MODEL_CONTROLS = {"joint": "joint", "given_other_drums_bass": "other song's drums+bass"}
PASS = "beats all controls"


def _verdict(row: dict[str, Any], controls_: list[str]) -> str:
    gen = row["generated"]
    others = [row[c] for c in controls_ if math.isfinite(row[c])]
    if not math.isfinite(gen) or not others:
        return "missing"
    return "yes" if all(gen > c for c in others) else "no"


def score_samples(samples: DemoSamples, cfg: Any, log: Callable[[str], None]) -> tuple[list[dict[str, Any]], str]:
    """Rows (track, score, generated, each control, verdict) and the same as an HTML table; prints them."""
    sr = int(cfg.coherence.sample_rate)
    labels = song_labels(samples.meta["tags"], samples.meta["labels"])
    made = samples.generated[SAMPLE]
    base = {t: mono_at(w, samples.sample_rate, sr) for t, w in samples.audio[SAMPLE].items()}
    rng = np.random.default_rng(0)
    variants = {"generated": {t: base[t] for t in made}}
    for key, name in MODEL_CONTROLS.items():
        variants[name] = {t: mono_at(samples.audio[key][t], samples.sample_rate, sr) for t in made}
    variants["half a beat late"] = {t: controls.half_beat(base[t], float(samples.meta["tags"]["tempo"]), sr) for t in made}
    variants["a tritone up"] = {t: controls.tritone(base[t], sr) for t in made}
    variants["shaped noise"] = {t: controls.shaped_noise(base[t], sr, rng) for t in made}
    scored = {name: fit_scores(ClipAudio(SAMPLE, {**base, **tracks}, samples.prompt, labels, frozenset(made)), cfg)
              for name, tracks in variants.items()}
    rows = []
    for track in made:
        for key, label in SCORES.items():
            if f"{key}/{track}" not in scored["generated"]:
                continue
            row: dict[str, Any] = {"track": track, "score": label,
                                   **{name: float(scored[name].get(f"{key}/{track}", math.nan)) for name in variants}}
            row[PASS] = _verdict(row, [n for n in variants if n != "generated"])
            rows.append(row)
    _print(rows, log)
    return rows, score_table(rows)


def _print(rows: list[dict[str, Any]], log: Callable[[str], None]) -> None:
    if not rows:
        log("      no score had anything to measure")
        return
    keys = list(rows[0])
    widths = [max(len(k), *(len(_text(r[k])) for r in rows)) for k in keys]
    log("      " + "  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)))
    for r in rows:
        log("      " + "  ".join(_text(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)))
    passed = sum(r[PASS] == "yes" for r in rows)
    log(f"      {passed} of {len(rows)} scores beat every control")


def _text(value: Any) -> str:
    if isinstance(value, float):
        return "missing" if math.isnan(value) else f"{value:.3f}"
    return str(value)
