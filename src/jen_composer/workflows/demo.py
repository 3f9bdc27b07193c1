"""The main job as a newcomer meets it: the whole pipeline in minutes on 2 CPU cores, offline.

1-4. render the benchmark, train the tiny autoencoder and composer for a short run (this proves the
     training loop works on this machine; such short runs do not make music yet);
5.   generate with the bundled pretrained weights: a joint sample, a conditional one (a held-out
     song's drums + bass kept) and a three-round co-composition session;
6.   score the generated pitched tracks against their controls and write `<runs>/demo/index.html`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from jen_composer.core.io import atomic_dir, atomic_write_json
from jen_composer.core.machine import matmul_gflops
from jen_composer.inference.bundle import BUNDLE_DIR, read_manifest, seen_songs, verify_bundle
from jen_composer.workflows.demo_samples import generate_samples
from jen_composer.workflows.demo_scores import score_samples
from jen_composer.workflows.results_page import write_results_page
from jen_composer.workflows.train_pipeline import Stages, train_pipeline

AUTOENCODER_EXPERIMENT = "experiments/autoencoder/tiny.yaml"
COMPOSER_EXPERIMENT = "experiments/composer/tiny.yaml"
# Short runs: enough steps to see the losses fall, not to learn music (the bundle does that).
AUTOENCODER_SHORT = ("trainer.max_steps=40", "trainer.val_check_interval=40")
COMPOSER_SHORT = ("trainer.max_steps=150", "trainer.val_check_interval=150", "logger.preview.every_n_steps=0",
                  "evaluation.every_n_val_epochs=0")


@dataclass
class DemoResult:
    data_root: Path
    autoencoder: Path
    composer_checkpoint: Path  # the short run's
    bundle: Path  # the weights that generated the samples
    samples: dict[str, Path]
    page: Path
    scores: list[dict]
    seconds: dict[str, float]
    gflops: float


def run_demo(root: Path = Path("."), overrides: Sequence[str] = (), log: Callable[[str], None] = print,
             ae_overrides: Sequence[str] = (), bundle: Path = BUNDLE_DIR) -> DemoResult:
    """Every stage; `overrides` / `ae_overrides` apply to the composer / autoencoder experiment."""
    gflops = matmul_gflops()
    log(f"this machine now: {gflops:.0f} GFLOP/s (float32 512x512 matmul, median of 10; recorded with the stage times)")
    stages = Stages(6, log)
    trained = train_pipeline(stages, root / AUTOENCODER_EXPERIMENT, root / COMPOSER_EXPERIMENT,
                             [*AUTOENCODER_SHORT, *ae_overrides], [*COMPOSER_SHORT, *overrides])
    out = Path(trained.composer_cfg.output_root) / "demo"
    with atomic_dir(out) as staging:
        with stages.run("generate", "generate with the bundled weights: joint, given drums + bass, a 3-round session"):
            samples = generate_samples(verify_bundle(bundle), trained.data_root, trained.composer_cfg, staging, log,
                                       seen_songs(read_manifest(bundle)))
        with stages.run("score", "score the generated pitched tracks against their controls; write the results page"):
            rows, table = score_samples(samples, trained.composer_cfg.evaluation, log)
            facts = {"machine speed": f"{gflops:.0f} GFLOP/s (512x512 float32 matmul, measured at the start)",
                     "weights": _describe(bundle), "held-out songs": ", ".join(s.song for s in samples.songs),
                     "held out": samples.held_out_note,
                     **{f"{k} time": f"{v:.0f} s" for k, v in stages.seconds.items()}}
            atomic_write_json(staging / "scores.json", rows)
            write_results_page(staging / "index.html", f"jen-composer demo: {samples.prompt}", samples.sections, table, facts)
        folders = {s.key: s.spectrogram.parent.relative_to(staging) for s in samples.sections}
    atomic_write_json(out / "timings.json", {"seconds": stages.seconds, "matmul_gflops": gflops})
    return DemoResult(trained.data_root, trained.autoencoder, trained.composer_checkpoint, bundle,
                      {k: out / v for k, v in folders.items()}, out / "index.html", rows, stages.seconds, gflops)


def _describe(bundle: Path) -> str:
    m = read_manifest(bundle)
    return f"bundled ({bundle}), recipe {m.get('recipe', '?')}" + (f": {m['note']}" if m.get("note") else "")
