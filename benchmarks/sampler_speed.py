"""End-to-end speed of the old and new default samplers in one run, next to their exact accuracy.

Tiny config on CPU with random-init weights (timing does not depend on the weights): generating
4 tracks x 10 s of latents, and the co-composition rounds (generate all; regenerate two given two
kept) through the real pipeline (tiny UNet + tiny VAE decoder, session files written). Accuracy is
the worst exact error over the tasks of tests/exact_moments.py for the same sampler setting, so the
rows compare speed at known accuracy. The old default is DDIM, 25 calls, even grid in t.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import BenchRow
from jen_composer.composition.session import Session
from jen_composer.core.config import compose
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.diffusion.generate import generate
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.models.autoencoder.export import build_autoencoder
from jen_composer.models.composer import ComposerModel
from tests.exact_moments import TASKS, gaussian_tracks, sampler_errors

SETTINGS = [("ddim", "uniform", 25, "old default"), ("unipc", "logsnr", 25, "new default"),
            ("unipc", "logsnr", 10, "new sampler at 10 calls")]


def worst_error(sampler: str, grid: str, steps: int) -> float:
    schedule, dist = NoiseSchedule(1000, "cosine", "v"), gaussian_tracks()
    return max(max(sampler_errors(dist, schedule, task, sampler, steps, grid)[:2]) for task in TASKS.values())


def run_benchmarks(quick: bool) -> list[BenchRow]:
    torch.manual_seed(0)
    cfg = compose(None)
    tracks = list(cfg.data.tracks)
    model = ComposerModel(cfg.composer, len(tracks), int(cfg.autoencoder.latent_dim)).eval()
    autoencoder = build_autoencoder(cfg.autoencoder)
    schedule = NoiseSchedule.from_config(cfg.composer.diffusion)
    hop = int(torch.tensor(list(cfg.autoencoder.strides)).prod())
    frames = round(10.0 * int(cfg.autoencoder.sample_rate) / hop)
    conf = f"tiny, random init, CPU {torch.get_num_threads()} threads"
    repeats = 1 if quick else 3
    rows = []
    for sampler, grid, steps, label in SETTINGS:
        err = worst_error(sampler, grid, steps)
        note = f"{label}; worst exact error {100 * err:.2f}% (Gaussian benchmark, all tasks)"
        settings = SamplerSettings.from_config(cfg.composer.sampler).replace(name=sampler, steps=steps, time_grid=grid)
        req = GenerationRequest(["upbeat funk"], ["generate"] * len(tracks), settings, seed=0, length=frames)
        times = []
        for _ in range(repeats + 1):  # the first run warms up
            start = time.perf_counter()
            generate(model, schedule, req, tracks)
            times.append(time.perf_counter() - start)
        rows.append(BenchRow(f"samplers: generate 4 tracks x 10 s, {sampler} {steps} calls ({grid})", conf,
                             sorted(times[1:])[len(times[1:]) // 2], "s", note))
        engine = ComposerPipeline(model, cfg, autoencoder, "random init")
        rounds: dict[str, list[float]] = {"generate all": [], "regenerate two": []}
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(repeats + 1):
                s = Session.create(Path(tmp) / f"s{r}", engine, "bench: upbeat pop", seed=r,
                                   settings=settings)
                t0 = time.perf_counter()
                s.generate_all()
                t1 = time.perf_counter()
                s.keep(*tracks[:2])
                t2 = time.perf_counter()
                s.regenerate()
                t3 = time.perf_counter()
                if r:
                    rounds["generate all"].append(t1 - t0)
                    rounds["regenerate two"].append(t3 - t2)
        for name, values in rounds.items():
            rows.append(BenchRow(f"samplers: co-composition round, {name}, {sampler} {steps} calls ({grid})",
                                 f"{conf}, {CompositionConfig().seconds:g} s takes", sorted(values)[len(values) // 2], "s/round", note))
    return rows


if __name__ == "__main__":
    for row in run_benchmarks(quick=True):
        print(f"{row.benchmark:75s} {row.value:8.3f} {row.unit:8s} {row.note}")
