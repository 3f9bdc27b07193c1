"""Data benchmarks: snippets/s served from audio files and from the latent cache (2 CPU cores)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import BenchRow
from jen_composer.core.config.data import DataConfig, SynthConfig
from jen_composer.data.datamodule import MultiTrackDataModule
from jen_composer.data.latent_cache import encode_latent_cache


class _PoolEncoder:
    """Stand-in for the tiny VAE's geometry (hop 64, 16 dims): measures I/O, not the encoder."""

    sample_rate, channels, hop, latent_dim = 16000, 1, 64, 16

    def encode(self, wave: torch.Tensor) -> torch.Tensor:
        pad = (-wave.shape[-1]) % self.hop
        pooled = torch.nn.functional.avg_pool1d(torch.nn.functional.pad(wave, (0, pad)), self.hop)
        return pooled.repeat(1, self.latent_dim, 1)

    def checksum(self) -> str:
        return "bench-pool"


def _rate(cfg: DataConfig, batches: int) -> float:
    dm = MultiTrackDataModule(cfg, seed=0)
    dm.setup()
    n, start = 0, time.perf_counter()
    while n < batches * cfg.batch_size:
        for batch in dm.train_dataloader():
            n += len(batch["song_id"])
            if n >= batches * cfg.batch_size:
                break
    return n / (time.perf_counter() - start)


def run_benchmarks(quick: bool) -> list[BenchRow]:
    songs, batches = (6, 10) if quick else (24, 60)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        from jen_composer.data.synth import synth_dataset

        root, cache = Path(tmp) / "synth", Path(tmp) / "cache"
        start = time.perf_counter()
        synth_dataset(root, SynthConfig(songs=songs, seconds=12.0), 16000, 1, progress=False)
        synth_s = time.perf_counter() - start
        rows.append(BenchRow("data: synth render", f"{songs} songs x 12 s, 16 kHz mono", songs * 12.0 / synth_s,
                             "audio s / s", "x real time, 4 stems + mix"))
        cfg = DataConfig(root=str(root), batch_size=8)
        rows.append(BenchRow("data: snippets from audio", "tiny, 16 kHz mono, 2.048 s, batch 8, 0 workers",
                             _rate(cfg, batches), "snippets/s", "collate uses torch's intra-op threads"))
        workers = DataConfig(root=str(root), batch_size=8, num_workers=2, persistent_workers=True)
        rows.append(BenchRow("data: snippets from audio", "tiny, 16 kHz mono, 2.048 s, batch 8, 2 workers",
                             _rate(workers, batches), "snippets/s"))
        encode_latent_cache(root, cache, _PoolEncoder(), cfg, progress=False)
        lat = DataConfig(root=str(root), batch_size=8, source="latents", latent_cache=str(cache))
        rows.append(BenchRow("data: snippets from latents", "tiny, hop 64, d 16, 512 frames, batch 8, 0 workers",
                             _rate(lat, batches), "snippets/s"))
    return rows


if __name__ == "__main__":
    for row in run_benchmarks(quick=False):
        print(f"{row.benchmark:32s} {row.value:10.1f} {row.unit:12s} {row.config} {row.note}")
