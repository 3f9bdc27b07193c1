"""Does the composer use its conditions? Conditional vs joint vs swapped-condition generation, paired.

For every held-out clip and every trained seed, the same model generates instrument + melody
- ``conditional``: given the clip's own drums + bass,
- ``joint``: all four tracks from the prompt alone,
- ``conditional_swapped``: given ANOTHER clip's drums + bass (the next clip of the split),
always with the clip's own prompt. The generated pitched tracks are scored against the FIRST clip's
labels: harmonic fit (chord-tone share against its chord labels) and rhythmic fit (onset envelope
against its beat grid). A model that ignores its conditions scores the same in all three; one that
follows them scores higher with its own drums + bass. Each comparison is a paired difference per
(seed, clip) with a two-level bootstrap 95% interval (``metrics.intervals.paired_bootstrap``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.core.config.options import ClapBackend, FadEmbedding
from jen_composer.core.errors import ConfigError
from jen_composer.core.io import atomic_write_json, atomic_write_text
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.metrics.fit import harmonic_fit_chords, rhythmic_fit_grid
from jen_composer.metrics.intervals import paired_bootstrap
from jen_composer.workflows.evaluate import Clip, Evaluator, load_clips

TASKS = ("conditional", "joint", "conditional_swapped")
SCORES = ("harmonic_fit", "rhythmic_fit")
GENERATED = ("instrument", "melody")  # the pitched tracks every task generates
COMPARISONS = (("conditional", "joint"), ("conditional", "conditional_swapped"))


def label_scores(stems: dict[str, np.ndarray], labels: dict[str, Any], sr: int) -> dict[str, float]:
    """Mean over the generated pitched tracks of their fit to the clip's chord and beat labels (nan = missing)."""
    harmonic, rhythmic = [], []
    for track in GENERATED:
        mono = np.asarray(stems[track]).mean(0)
        if labels.get("chords"):
            harmonic.append(harmonic_fit_chords(mono, sr, labels["chords"]))
        if labels.get("beats"):
            rhythmic.append(rhythmic_fit_grid(mono, labels["beats"], sr))
    mean = lambda xs: float(np.nanmean(xs)) if np.isfinite(xs).any() else float("nan")  # noqa: E731
    return {"harmonic_fit": mean(np.asarray(harmonic, float)), "rhythmic_fit": mean(np.asarray(rhythmic, float))}


def score_checkpoint(checkpoint: Path, clips: int, seconds: float, seed: int, log: Callable[[str], None],
                     split: str = "test", autoencoder: str | None = None) -> tuple[list[str], dict[str, dict[str, np.ndarray]]]:
    """Per task and score, the per-clip values ``[clips]`` of one trained model (and the clip ids)."""
    pipe = ComposerPipeline.from_checkpoint(checkpoint, autoencoder=autoencoder, same_encoding=True)
    cfg = pipe.cfg.copy()  # generation only: no adherence model or FAD embedder to build
    cfg.evaluation.clap.backend, cfg.evaluation.fad.embedding = ClapBackend.none, FadEmbedding.mel
    cfg.evaluation.probe.path = ""
    evaluator = Evaluator(pipe, cfg, log)
    chosen: list[Clip] = load_clips(pipe.cfg, split, clips, seconds, pipe.sample_rate)
    if len(chosen) < 2:
        raise ConfigError(f"{checkpoint}: the acceptance comparison needs at least two {split} clips")
    evaluator.set_clips(chosen)
    values = {task: {s: np.full(len(chosen), np.nan) for s in SCORES} for task in TASKS}
    for i, clip in enumerate(chosen):
        for task in TASKS:
            stems, _ = evaluator.generate_task(clip, task, seed, seconds)
            for name, value in label_scores(stems, clip.labels, pipe.sample_rate).items():
                values[task][name][i] = value
        log(f"  {checkpoint.parent.parent.name} {i + 1}/{len(chosen)} {clip.song_id}: "
            + ", ".join(f"{t} h={values[t]['harmonic_fit'][i]:.3f} r={values[t]['rhythmic_fit'][i]:.3f}" for t in TASKS))
    return [c.song_id for c in chosen], values


def run_acceptance(checkpoints: Sequence[Path], out: Path, clips: int = 60, seconds: float = 4.096, seed: int = 0,
                   samples: int = 2000, log: Callable[[str], None] = print, split: str = "test",
                   autoencoder: str | None = None) -> dict[str, Any]:
    """Score every checkpoint (one per training seed), compare the tasks pairwise, write JSON + Markdown.
    ``autoencoder``: decode through this one (same checksum as each checkpoint's) instead of theirs."""
    if not checkpoints:
        raise ConfigError("acceptance: give at least one --ckpt (one per training seed)")
    per_seed = []
    for ckpt in checkpoints:
        log(f"== {ckpt}")
        ids, values = score_checkpoint(Path(ckpt), clips, seconds, seed, log, split, autoencoder)
        per_seed.append((ids, values))
    if any(ids != per_seed[0][0] for ids, _ in per_seed):
        raise ConfigError("acceptance: the checkpoints were trained on different test splits; compare like with like")
    stack = {t: {s: np.stack([v[t][s] for _, v in per_seed]) for s in SCORES} for t in TASKS}  # [seeds, clips]
    means = {t: {s: float(np.nanmean(stack[t][s])) for s in SCORES} for t in TASKS}
    comparisons = []
    for a, b in COMPARISONS:
        for s in SCORES:
            iv = paired_bootstrap(stack[a][s] - stack[b][s], samples=samples, seed=seed)
            comparisons.append({"a": a, "b": b, "score": s, **iv.to_dict(), "holds": bool(iv.low > 0)})
    result = {"checkpoints": [str(c) for c in checkpoints], "autoencoder": autoencoder, "split": split, "clips": per_seed[0][0], "seconds": seconds,
              "seed": seed, "means": means, "comparisons": comparisons,
              "passed": all(c["holds"] for c in comparisons),
              "values": {t: {s: stack[t][s].tolist() for s in SCORES} for t in TASKS}}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "acceptance.json", result)
    atomic_write_text(out / "acceptance.md", markdown(result))
    return result


def markdown(result: dict[str, Any]) -> str:
    n_seeds, n_clips = len(result["checkpoints"]), len(result["clips"])
    lines = [f"# Acceptance: conditional vs joint vs swapped conditions ({n_seeds} training seeds x {n_clips} "
             "held-out clips)", "", "| task | " + " | ".join(SCORES) + " |", "|---|" + "---:|" * len(SCORES)]
    for task in TASKS:
        lines.append(f"| {task} | " + " | ".join(f"{result['means'][task][s]:.4f}" for s in SCORES) + " |")
    lines += ["", "| comparison | score | mean difference | 95% interval | holds |", "|---|---|---:|---|---|"]
    for c in result["comparisons"]:
        lines.append(f"| {c['a']} - {c['b']} | {c['score']} | {c['mean']:+.4f} | [{c['low']:+.4f}, {c['high']:+.4f}] | "
                     f"{'yes' if c['holds'] else 'NO'} |")
    lines += ["", f"Overall: {'PASSED' if result['passed'] else 'NOT PASSED'} (every interval must lie above 0). "
              "Paired differences per (training seed, clip); two-level bootstrap over seeds and clips."]
    return "\n".join(lines) + "\n"
