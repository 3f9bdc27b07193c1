"""Data layer: song folders, the rendered benchmark, converters, aligned snippets, splits, prompts,
the latent cache and `MultiTrackDataModule`. See docs/data.md for the on-disk format."""

from jen_composer.data.datamodule import MultiTrackDataModule
from jen_composer.data.index import ScanSummary, SongRecord, scan_dataset
from jen_composer.data.latent_cache import LatentCache, LatentEncoder, encode_latent_cache
from jen_composer.data.mix import mix_stems
from jen_composer.data.prompts import build_prompt
from jen_composer.data.schema import SongMeta, read_meta
from jen_composer.data.splits import make_splits, resolve_splits, write_splits

__all__ = [
    "LatentCache", "LatentEncoder", "MultiTrackDataModule", "ScanSummary", "SongMeta", "SongRecord",
    "build_prompt", "encode_latent_cache", "make_splits", "mix_stems", "read_meta", "resolve_splits",
    "scan_dataset", "write_splits",
]
