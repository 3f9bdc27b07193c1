"""Aligned multi-track snippets: one start for every track, random for training, a grid for eval.

Items are dicts ``{"audio" [k, C, W] | "latents" [k, d, W], "prompt", "song_id", "start" (s)}``
(k + 1 tracks, the mix last, with ``with_mix``);
the default collate stacks them into the batch contract of docs/architecture.md.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from jen_composer.core.config.data import PromptConfig
from jen_composer.data.activity import Activity
from jen_composer.data.audio import read_audio
from jen_composer.data.index import SongRecord
from jen_composer.data.latent_cache import LatentCache
from jen_composer.data.mix import mix_stems
from jen_composer.data.prompts import build_prompt
from jen_composer.data.schema import SongMeta


@dataclass
class SongWindows:
    """A song as the snippet logic sees it, in the source's units (samples or latent frames)."""

    song_id: str
    length: int
    meta: SongMeta
    activity: Activity
    grid: list[int]  # active starts on the eval grid (never empty)


def song_windows(song_id: str, length: int, meta: SongMeta, activity: Activity, window: int, threshold: float) -> SongWindows:
    grid = activity.active_starts(length, window, window, threshold)
    if not grid:  # active only off the grid: take the first active window on a finer grid
        grid = activity.active_starts(length, window, max(window // 4, 1), threshold)[:1] or [0]
    return SongWindows(song_id, length, meta, activity, grid)


class SnippetDataset(Dataset, abc.ABC):
    """Base: maps an index to (song, start); subclasses read the window."""

    key = ""

    def __init__(
        self, songs: list[SongWindows], window: int, unit_seconds: float, train: bool,
        prompt: PromptConfig, threshold_db: float, crop_tries: int,
    ) -> None:
        self.songs, self.window, self.unit_seconds, self.train = songs, window, unit_seconds, train
        self.prompt, self.threshold_db, self.crop_tries = prompt, threshold_db, crop_tries
        self.items = [(i, g) for i, s in enumerate(songs) for g in s.grid]
        self.seed = 0  # training randomness is a function of (seed, epoch, item): see data.sampler

    def __len__(self) -> int:
        return len(self.items)

    def _start(self, song: SongWindows, grid_start: int, rng: np.random.Generator | None) -> int:
        """Training: a uniform random start whose window is not all silent (fallback: the grid start)."""
        if rng is None:
            return grid_start
        high = song.length - self.window
        for _ in range(self.crop_tries):
            start = int(rng.integers(high + 1))
            if song.activity.is_active(start, self.window, self.threshold_db):
                return start
        return grid_start

    @abc.abstractmethod
    def read(self, song: SongWindows, start: int) -> torch.Tensor:
        ...

    def __getitem__(self, index: int) -> dict[str, Any]:
        epoch, index = divmod(int(index), len(self.items))  # EpochSeededSampler encodes the epoch
        song_index, grid_start = self.items[index]
        song = self.songs[song_index]
        rng = np.random.default_rng([self.seed, epoch, index]) if self.train else None
        start = self._start(song, grid_start, rng)
        return {
            self.key: self.read(song, start),
            "prompt": build_prompt(song.meta, self.prompt, rng),
            "song_id": song.song_id,
            "start": start * self.unit_seconds,
        }


class AudioSnippets(SnippetDataset):
    """Reads only the window from each stem file (partial soundfile reads), gain-scaled."""

    key = "audio"

    def __init__(self, records: list[SongRecord], tracks: list[str], channels: int, sample_rate: int,
                 window: int, train: bool, prompt: PromptConfig, threshold_db: float, crop_tries: int,
                 with_mix: bool = False) -> None:
        songs = [song_windows(r.song_id, r.frames, r.meta, r.activity, window, threshold_db) for r in records]
        super().__init__(songs, window, 1.0 / sample_rate, train, prompt, threshold_db, crop_tries)
        self.files = {r.song_id: [r.files[t] for t in tracks] for r in records}
        self.tracks, self.channels, self.with_mix = tracks, channels, with_mix

    def read(self, song: SongWindows, start: int) -> torch.Tensor:
        stems = [
            read_audio(path, song.song_id, start=start, frames=self.window, channels=self.channels)[0]
            * song.meta.gain(track)
            for track, path in zip(self.tracks, self.files[song.song_id])
        ]
        if self.with_mix:  # the mix as track k+1: the one definition of the mix, on the gain-scaled stems
            stems.append(mix_stems(stems))
        return torch.from_numpy(np.stack(stems).astype(np.float32, copy=False))


class LatentSnippets(SnippetDataset):
    """Reads the window of latent frames from the memory-mapped cache."""

    key = "latents"

    def __init__(self, cache: LatentCache, song_ids: list[str], window: int, train: bool,
                 prompt: PromptConfig, threshold_db: float, crop_tries: int, with_mix: bool = False) -> None:
        songs = []
        for sid in song_ids:
            if cache.frames(sid) >= window:
                songs.append(song_windows(sid, cache.frames(sid), cache.meta(sid), cache.activity(sid), window, threshold_db))
        super().__init__(songs, window, cache.hop / cache.sample_rate, train, prompt, threshold_db, crop_tries)
        self.cache, self.with_mix = cache, with_mix

    def read(self, song: SongWindows, start: int) -> torch.Tensor:
        return self.cache.read(song.song_id, start, self.window, self.with_mix).contiguous()
