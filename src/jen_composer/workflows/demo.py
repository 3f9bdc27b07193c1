"""The main job on the embedded default: render -> autoencoder -> latents -> composer -> stems.

`jen-composer demo` (and `make demo`) run this on 2 CPU cores in minutes, offline. Each stage
prints what it does; the end prints where the audio, spectrograms and metrics are.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from jen_composer.core.config import compose, run_dir, to_container
from jen_composer.core.io import atomic_write_json
from jen_composer.data.index import list_song_dirs
from jen_composer.data.latent_cache import CACHE_FILE, LatentCache, encode_latent_cache
from jen_composer.data.splits import resolve_splits
from jen_composer.data.synth import synth_dataset
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.inference.stems_io import write_stems
from jen_composer.models.autoencoder import export_from_checkpoint, load_autoencoder
from jen_composer.training.fit import fit

AUTOENCODER_EXPERIMENT = "experiments/autoencoder/tiny.yaml"
COMPOSER_EXPERIMENT = "experiments/composer/tiny.yaml"


@dataclass
class DemoResult:
    data_root: Path
    autoencoder: Path
    composer_checkpoint: Path
    samples: dict[str, Path]
    metrics_file: Path
    seconds: dict[str, float] = field(default_factory=dict)


def _stage(log: Callable[[str], None], number: int, text: str) -> float:
    log(f"\n[{number}/5] {text}")
    return time.perf_counter()


def run_demo(root: Path = Path("."), overrides: Sequence[str] = (), log: Callable[[str], None] = print,
             ae_overrides: Sequence[str] = ()) -> DemoResult:
    """Run every stage; `overrides` apply to the composer experiment, `ae_overrides` to the autoencoder's."""
    timings: dict[str, float] = {}
    cfg = compose(root / COMPOSER_EXPERIMENT, overrides)
    data_root = Path(cfg.data.root)

    t = _stage(log, 1, f"render the benchmark: {cfg.data.synth.songs} songs x {cfg.data.synth.seconds:g} s -> {data_root}")
    marker = data_root / "synth.json"
    wanted = {"synth": to_container(cfg.data.synth), "sample_rate": cfg.data.sample_rate, "channels": cfg.data.channels}
    if marker.is_file() and json.loads(marker.read_text()) == json.loads(json.dumps(wanted)):
        log("      already rendered with these settings, reusing it")
    else:
        shutil.rmtree(data_root, ignore_errors=True)
        synth_dataset(data_root, cfg.data.synth, int(cfg.data.sample_rate), int(cfg.data.channels),
                      int(cfg.data.split_seed), float(cfg.data.test_fraction), float(cfg.data.val_fraction))
        atomic_write_json(marker, wanted)
    timings["render"] = time.perf_counter() - t

    t = _stage(log, 2, "train the tiny waveform VAE")
    ae_cfg = compose(root / AUTOENCODER_EXPERIMENT, [f"data.root={data_root}", *ae_overrides])
    shutil.rmtree(run_dir(ae_cfg), ignore_errors=True)  # the demo always trains afresh
    ae_fit = fit(ae_cfg)
    export_dir = Path(cfg.composer.autoencoder)
    export_from_checkpoint(ae_fit.last_checkpoint, export_dir)
    log(f"      exported to {export_dir}")
    timings["autoencoder"] = time.perf_counter() - t

    t = _stage(log, 3, f"encode every stem to latents -> {cfg.data.latent_cache}")
    autoencoder = load_autoencoder(export_dir)
    cache_dir = Path(cfg.data.latent_cache)
    if (cache_dir / CACHE_FILE).is_file() and LatentCache(cache_dir).checksum != autoencoder.checksum():
        shutil.rmtree(cache_dir)  # built by an earlier demo's autoencoder
    encode_latent_cache(data_root, cache_dir, autoencoder, cfg.data)
    timings["encode"] = time.perf_counter() - t

    t = _stage(log, 4, f"train the tiny composer ({cfg.trainer.max_steps} steps, curriculum {cfg.curriculum.schedule})")
    shutil.rmtree(run_dir(cfg), ignore_errors=True)
    composer_fit = fit(cfg)
    timings["composer"] = time.perf_counter() - t

    t = _stage(log, 5, "generate: a joint sample and a conditional one (given drums + bass)")
    samples, metrics = generate_examples(composer_fit.last_checkpoint, data_root, composer_fit.run_dir / "samples", cfg)
    metrics_file = composer_fit.run_dir / "samples" / "metrics.json"
    atomic_write_json(metrics_file, metrics)
    timings["generate"] = time.perf_counter() - t
    atomic_write_json(composer_fit.run_dir / "demo_timings.json", timings)
    return DemoResult(data_root, export_dir, composer_fit.last_checkpoint, samples, metrics_file, timings)


def generate_examples(checkpoint: Path, data_root: Path, out: Path, cfg) -> tuple[dict[str, Path], dict]:
    """Joint generation from a held-out song's prompt, and generation given its drums + bass."""
    from jen_composer.metrics.coherence import beat_sync

    pipe = ComposerPipeline.from_checkpoint(checkpoint)
    test_song = sorted(resolve_splits(data_root, [d.name for d in list_song_dirs(data_root)], int(cfg.data.split_seed), float(cfg.data.test_fraction),
                                      float(cfg.data.val_fraction))["test"])[0]
    meta = json.loads((data_root / test_song / "meta.json").read_text())
    prompt = meta["caption"]
    seconds = float(cfg.data.snippet_seconds) * 2
    samples_n = round(seconds * pipe.sample_rate)
    kept = {}
    for name in ("drums", "bass"):
        wave, _ = sf.read(data_root / test_song / f"{name}.wav", dtype="float32", always_2d=True)
        kept[name] = wave.T[:, :samples_n] * float(meta["gains"][name])
    settings = dict(seconds=seconds, settings=SamplerSettings.from_config(cfg.composer.sampler))
    joint = pipe.generate(prompt, {}, list(pipe.tracks), seed=0, **settings)
    generated = [t for t in pipe.tracks if t not in kept]
    conditional = pipe.generate(prompt, kept, generated, seed=0, **settings)
    conditional_all = {t: (kept[t] if t in kept else conditional[t]) for t in pipe.tracks}
    folders = {
        "joint": write_stems(out / "joint", joint, pipe.sample_rate)["mix"].parent,
        "conditional": write_stems(out / "given_drums_bass", conditional_all, pipe.sample_rate, set(kept))["mix"].parent,
    }
    sr = pipe.sample_rate
    metrics = {
        "prompt": prompt,
        "source_song": test_song,
        "beat_sync_joint": float(beat_sync(joint["drums"].mean(0), [joint[t].mean(0) for t in pipe.tracks if t != "drums"], sr)),
        "beat_sync_conditional": float(beat_sync(kept["drums"].mean(0), [conditional[t].mean(0) for t in generated], sr)),
        "peak_joint": float(max(np.abs(v).max() for v in joint.values())),
    }
    return folders, metrics
