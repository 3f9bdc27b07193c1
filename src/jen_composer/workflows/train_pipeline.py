"""Render -> train the autoencoder -> encode latents -> train the composer, from two experiments.

The demo runs it with short runs (proving the loop works on this machine); `jen-composer bundle
--retrain` runs it with the bench recipe to rebuild the bundled weights. `Stages` prints each
stage as it starts and its time when it ends.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from jen_composer.core.config import compose, run_dir
from jen_composer.core.errors import ConfigError
from jen_composer.data.latent_cache import CACHE_FILE, LatentCache, encode_latent_cache
from jen_composer.data.synth import synth_dataset
from jen_composer.data.synth.build import MARKER, is_render_of
from jen_composer.models.autoencoder import export_from_checkpoint, load_autoencoder
from jen_composer.training.fit import check_accelerator, fit


@dataclass
class Stages:
    """Numbered stages (``[2/6] train the autoencoder ... done in 95 s``) and their wall times."""

    total: int
    log: Callable[[str], None] = print
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def run(self, key: str, text: str) -> Iterator[None]:
        self.log(f"\n[{len(self.seconds) + 1}/{self.total}] {text}")
        start = time.perf_counter()
        yield
        self.seconds[key] = time.perf_counter() - start
        self.log(f"      {key}: {self.seconds[key]:.0f} s")


@dataclass
class TrainedPipeline:
    data_root: Path
    autoencoder: Path  # the exported autoencoder folder
    composer_checkpoint: Path
    autoencoder_cfg: DictConfig
    composer_cfg: DictConfig


def render_benchmark(cfg: DictConfig, log: Callable[[str], None]) -> Path:
    """Render `cfg.data.synth` into `cfg.data.root` unless it already holds exactly that render. A
    folder with files but no render record is refused, never deleted: its songs came from elsewhere."""
    data_root = Path(cfg.data.root)
    marker = data_root / MARKER
    if marker.is_file():
        if is_render_of(data_root, cfg.data.synth, int(cfg.data.sample_rate), int(cfg.data.channels)):
            log("      already rendered with these settings, reusing it")
            return data_root
    elif data_root.is_dir() and any(data_root.iterdir()):
        raise ConfigError(f"data.root: {data_root} holds files but no {MARKER} saying how they were rendered; "
                          "move it away (or point data.root at an empty folder) so the render cannot delete it")
    shutil.rmtree(data_root, ignore_errors=True)
    synth_dataset(data_root, cfg.data.synth, int(cfg.data.sample_rate), int(cfg.data.channels),
                  int(cfg.data.split_seed), float(cfg.data.test_fraction), float(cfg.data.val_fraction))
    return data_root


def train_pipeline(stages: Stages, autoencoder_experiment: Path, composer_experiment: Path,
                   ae_overrides: Sequence[str] = (), overrides: Sequence[str] = (),
                   reuse_autoencoder: Path | None = None) -> TrainedPipeline:
    """Four stages, each trained afresh; the autoencoder trains on the composer experiment's data.
    ``reuse_autoencoder``: an exported autoencoder copied to where the composer expects its own instead
    of training one (the bundle's needs a GPU; the composer stage then still retrains on a CPU)."""
    cfg = compose(composer_experiment, overrides)
    ae_cfg = compose(autoencoder_experiment, [f"data.root={cfg.data.root}", *ae_overrides])
    if reuse_autoencoder is None:
        check_accelerator(ae_cfg, str(autoencoder_experiment))  # before the render, not after it
    else:
        load_autoencoder(reuse_autoencoder)  # a bad folder is one line before anything runs
        target, source = Path(cfg.composer.autoencoder).resolve(), reuse_autoencoder.resolve()
        if target != source and (target in source.parents or source in target.parents):
            raise ConfigError(f"--autoencoder: {reuse_autoencoder} and composer.autoencoder {cfg.composer.autoencoder} "
                              "contain one another; copying one over the other would delete it")
    check_accelerator(cfg, str(composer_experiment))
    with stages.run("render", f"render the benchmark: {cfg.data.synth.songs} songs x {cfg.data.synth.seconds:g} s -> {cfg.data.root}"):
        data_root = render_benchmark(cfg, stages.log)
    export_dir = Path(cfg.composer.autoencoder)
    if reuse_autoencoder is not None:
        with stages.run("autoencoder", f"reuse the exported autoencoder {reuse_autoencoder} (not retrained)"):
            if export_dir.resolve() != reuse_autoencoder.resolve():
                shutil.rmtree(export_dir, ignore_errors=True)
                shutil.copytree(reuse_autoencoder, export_dir)
            stages.log(f"      copied to {export_dir}")
    else:
        with stages.run("autoencoder", f"train the autoencoder ({ae_cfg.name}, {ae_cfg.trainer.max_steps} steps)"):
            shutil.rmtree(run_dir(ae_cfg), ignore_errors=True)
            ae_fit = fit(ae_cfg)
            export_from_checkpoint(ae_fit.last_checkpoint, export_dir)
            stages.log(f"      exported to {export_dir}")
    with stages.run("encode", f"encode every stem to latents -> {cfg.data.latent_cache}"):
        autoencoder = load_autoencoder(export_dir)
        cache_dir = Path(cfg.data.latent_cache)
        if (cache_dir / CACHE_FILE).is_file() and LatentCache(cache_dir).checksum != autoencoder.checksum():
            shutil.rmtree(cache_dir)  # built by an earlier run's autoencoder
        encode_latent_cache(data_root, cache_dir, autoencoder, cfg.data, with_mix=bool(cfg.composer.mix_track))
    with stages.run("composer", f"train the composer ({cfg.name}, {cfg.trainer.max_steps} steps, curriculum {cfg.curriculum.schedule})"):
        shutil.rmtree(run_dir(cfg), ignore_errors=True)
        composer_fit = fit(cfg)
    return TrainedPipeline(data_root, export_dir, composer_fit.last_checkpoint, ae_cfg, cfg)
