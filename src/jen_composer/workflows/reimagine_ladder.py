"""Where in the noise range does a composer lose the music? The re-imagine ladder.

For each held-out clip every stem is kept, and the pitched tracks (instrument, melody) are
re-imagined at strengths s (SDEdit: noised to t = s*T, then sampled back with the other tracks kept
clean). s = 1 is conditional generation from scratch; small s only asks the model to clean up. The
same label scores as the acceptance check (`workflows.acceptance.label_scores`) are taken on the
originals and on every rung. A model that denoises well but has not learned the music keeps the
original's harmonic fit at small s and falls to a flat chroma's (~0.3) at s = 1; a composer keeps
it at s = 1 too. This separates "the autoencoder or the sampler lose pitch" (low fit already at small
s) from "the composer does not generate pitch" (low fit only at large s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_write_json, atomic_write_text
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.metrics.intervals import t_interval
from jen_composer.workflows.acceptance import GENERATED, SCORES, label_scores
from jen_composer.workflows.evaluate import load_clips

DEFAULT_STRENGTHS = (0.2, 0.5, 0.8, 1.0)


def run_ladder(checkpoint: Path, out: Path, clips: int = 12, seconds: float = 4.096, seed: int = 0,
               strengths: Sequence[float] = DEFAULT_STRENGTHS, split: str = "test",
               log: Callable[[str], None] = print, autoencoder: str | None = None) -> dict[str, Any]:
    """Label scores of the originals and of every re-imagine strength; JSON + Markdown in ``out``.
    ``autoencoder``: decode through this one (same checksum as the checkpoint's) instead of its own."""
    if not strengths or any(not 0.0 < s <= 1.0 for s in strengths):
        raise ConfigError(f"--ladder: strengths must lie in (0, 1], got {list(strengths)}")
    pipe = ComposerPipeline.from_checkpoint(checkpoint, autoencoder=autoencoder, same_encoding=True)
    settings = SamplerSettings.from_config(pipe.cfg.composer.sampler)
    chosen = load_clips(pipe.cfg, split, clips, seconds, pipe.sample_rate)
    rungs = ["original"] + [f"s={s:g}" for s in strengths]
    values = {r: {s: np.full(len(chosen), np.nan) for s in SCORES} for r in rungs}
    for i, clip in enumerate(chosen):
        for name, value in label_scores(clip.stems, clip.labels, pipe.sample_rate).items():
            values["original"][name][i] = value
        for s, rung in zip(strengths, rungs[1:], strict=True):
            stems = pipe.generate(clip.prompt, dict(clip.stems), [], seconds=seconds, seed=seed, settings=settings,
                                  reimagine={t: float(s) for t in GENERATED})
            for name, value in label_scores(stems, clip.labels, pipe.sample_rate).items():
                values[rung][name][i] = value
        log(f"  {i + 1}/{len(chosen)} {clip.song_id}: "
            + ", ".join(f"{r} h={values[r]['harmonic_fit'][i]:.3f}" for r in rungs))
    summary = {r: {s: t_interval(values[r][s][np.isfinite(values[r][s])]).to_dict() for s in SCORES} for r in rungs}
    result = {"checkpoint": str(checkpoint), "split": split, "clips": [c.song_id for c in chosen], "seconds": seconds,
              "seed": seed, "strengths": list(strengths), "summary": summary,
              "values": {r: {s: values[r][s].tolist() for s in SCORES} for r in rungs}}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "ladder.json", result)
    atomic_write_text(out / "ladder.md", markdown(result))
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [f"# Re-imagine ladder: {', '.join(GENERATED)} re-imagined with every other stem kept "
             f"({len(result['clips'])} {result['split']} clips)", "",
             "| rung | " + " | ".join(f"{s} (mean, 95% interval)" for s in SCORES) + " |", "|---|" + "---|" * len(SCORES)]
    for rung, scores in result["summary"].items():
        cells = [f"{v['mean']:.3f} [{v['low']:.3f}, {v['high']:.3f}]" for v in scores.values()]
        lines.append(f"| {rung} | " + " | ".join(cells) + " |")
    lines += ["", "s = 1 generates the pitched tracks from scratch given the kept drums + bass; small s only "
              "cleans up a noised copy of the originals."]
    return "\n".join(lines) + "\n"
