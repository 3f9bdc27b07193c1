"""`MultiTrackDataModule`: aligned multi-track snippets (audio or cached latents) for Lightning.

Validation happens once, in ``setup`` on the main process; workers only read windows of files that
already passed every check. Under DDP the loaders shard the data themselves (the trainer runs with
``use_distributed_sampler=False``): train through the rank-aware `EpochSeededSampler`, which resumes
mid-epoch on every rank; val/test in order, padded by at most world_size - 1 repeated items, so
evaluators that need exact counts dedupe on (song_id, start).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader, DistributedSampler, Sampler

from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import ConfigError, DataError
from jen_composer.core.seed import seed_worker
from jen_composer.data.dataset import AudioSnippets, LatentSnippets, SnippetDataset
from jen_composer.data.index import ScanSummary, check_mode, list_song_dirs, scan_dataset, snippet_samples
from jen_composer.data.latent_cache import LatentCache
from jen_composer.data.sampler import EpochSeededSampler
from jen_composer.data.splits import SPLIT_NAMES, resolve_splits, write_splits

SOURCES = ("audio", "latents")
log = logging.getLogger(__name__)


class MultiTrackDataModule(L.LightningDataModule):
    """Train/val/test loaders of dict batches (see docs/architecture.md, "data").

    ``encoder_checksum``: with ``source=latents``, refuse a cache built by another autoencoder.
    ``with_mix``: append the mix as track k+1 (a composer with ``composer.mix_track``): the gain-scaled
    sum of the stems (`data.mix.mix_stems`) for audio, the cache's mix latents for latents.
    """

    def __init__(self, cfg: DataConfig, seed: int = 0, encoder_checksum: str | None = None, with_mix: bool = False) -> None:
        super().__init__()
        if cfg.source not in SOURCES:
            raise ConfigError(f"data.source must be one of {', '.join(SOURCES)}, got '{cfg.source}'")
        if cfg.source == "latents" and not cfg.latent_cache:
            raise ConfigError("data.latent_cache must name a folder written by `jen-composer data encode` when data.source=latents")
        check_mode(cfg.on_bad_input)
        self.cfg, self.seed, self.encoder_checksum, self.with_mix = cfg, seed, encoder_checksum, with_mix
        self.datasets: dict[str, SnippetDataset] = {}
        self.splits: dict[str, list[str]] = {}
        self.summary = ScanSummary()
        self._resume_epoch, self._resume_batches = 0, 0

    def resume_at(self, epoch: int, batches_done: int) -> None:
        """Continue the training order mid-epoch after a resume (called from the checkpoint's loop state)."""
        self._resume_epoch, self._resume_batches = int(epoch), int(batches_done)

    def _rank_world(self) -> tuple[int, int]:
        """This process's share of the data: the trainer's rank and world size (0, 1 without a trainer)."""
        trainer = getattr(self, "trainer", None)
        return (int(trainer.global_rank), int(trainer.world_size)) if trainer is not None else (0, 1)

    def _fractions(self) -> tuple[int, float, float]:
        return int(self.cfg.split_seed), float(self.cfg.test_fraction), float(self.cfg.val_fraction)

    def prepare_data(self) -> None:
        """Rank 0 only: record the split manifest beside the audio (a user-written one is kept)."""
        if self.cfg.source == "audio":
            root = Path(self.cfg.root)
            write_splits(root, [d.name for d in list_song_dirs(root)], *self._fractions())

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        if self.cfg.source == "audio":
            self._setup_audio()
        else:
            self._setup_latents()
        for name in SPLIT_NAMES:
            log.info("data %s: %d songs, %d snippets", name, len(self.splits[name]), len(self.datasets[name]))

    def _setup_audio(self) -> None:
        cfg = self.cfg
        root = Path(cfg.root)
        self.splits = resolve_splits(root, [d.name for d in list_song_dirs(root)], *self._fractions())
        self.summary = scan_dataset(cfg)
        records = {r.song_id: r for r in self.summary.songs}
        window = snippet_samples(cfg)
        for name in SPLIT_NAMES:
            recs = [records[s] for s in self.splits[name] if s in records]
            self.datasets[name] = AudioSnippets(
                recs, list(cfg.tracks), cfg.channels, cfg.sample_rate, window, name == "train",
                cfg.prompt, cfg.silence_threshold_db, cfg.crop_tries, self.with_mix,
            )

    def _setup_latents(self) -> None:
        cfg = self.cfg
        cache = LatentCache(cfg.latent_cache)
        if self.encoder_checksum is not None:
            cache.check_encoder(self.encoder_checksum)
        cache.check_tracks(list(cfg.tracks))
        if self.with_mix:
            cache.check_mix()
        if cache.sample_rate != cfg.sample_rate:
            raise DataError(f"latent cache {cache.path} is at {cache.sample_rate} Hz, data.sample_rate is {cfg.sample_rate}")
        self.splits = resolve_splits(cache.path, cache.dataset_songs, *self._fractions())
        window = math.ceil(snippet_samples(cfg) / cache.hop)
        available = set(cache.songs)
        for name in SPLIT_NAMES:
            ids = [s for s in self.splits[name] if s in available]
            self.datasets[name] = LatentSnippets(
                cache, ids, window, name == "train", cfg.prompt, cfg.silence_threshold_db, cfg.crop_tries, self.with_mix,
            )

    def _loader(self, name: str) -> DataLoader:
        if not self.datasets:
            self.setup()
        cfg = self.cfg
        workers = int(cfg.num_workers)
        dataset = self.datasets[name]
        dataset.seed = self.seed
        sampler: Sampler[int] | None = None
        rank, world = self._rank_world()
        if name == "train":
            sampler = EpochSeededSampler(len(dataset), self.seed, True, rank, world)
            sampler.resume_at(self._resume_epoch, self._resume_batches * int(cfg.batch_size))
        elif world > 1:  # in order; padded by at most world - 1 repeated items
            sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=False)
        return DataLoader(
            dataset,
            batch_size=int(cfg.batch_size),
            sampler=sampler,
            drop_last=False,
            num_workers=workers,
            pin_memory=bool(cfg.pin_memory),
            persistent_workers=bool(cfg.persistent_workers) and workers > 0,
            worker_init_fn=seed_worker,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
