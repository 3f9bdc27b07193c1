"""Aligned snippets: a click at one instant in every track lands on one sample in every snippet;
gain scaling and the mix helper; prompts; DDP sharding of the eval grid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DistributedSampler

from jen_composer.core.config.data import DataConfig, PromptConfig
from jen_composer.data import MultiTrackDataModule, mix_stems
from jen_composer.data.prompts import build_prompt
from jen_composer.data.schema import SongMeta

SR = 8000
TRACKS = ["bass", "drums", "instrument", "melody"]
GAINS = {"bass": 0.5, "drums": 1.0, "instrument": 0.25, "melody": 0.75}


def _click_song(root: Path, song: str, clicks: list[int], n: int, rng: np.random.Generator, stereo: bool = False) -> None:
    folder = root / song
    folder.mkdir(parents=True)
    for i, t in enumerate(TRACKS):
        x = 0.01 * rng.standard_normal(n + i * 37).astype(np.float32)  # lengths differ within tolerance
        x[clicks] = 0.9
        sf.write(folder / f"{t}.wav", np.stack([x, x], 1) if stereo and i == 1 else x, SR, subtype="FLOAT")
    (folder / "meta.json").write_text(json.dumps({"tags": {"genre": "test", "tempo": 100}, "caption": "a test", "gains": GAINS}))


def _cfg(root: Path, **kw) -> DataConfig:
    return DataConfig(root=str(root), sample_rate=SR, snippet_seconds=0.5, batch_size=4, **kw)


def test_click_is_on_one_sample_in_every_track_of_every_snippet(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    clicks = list(range(500, 3 * SR, 1300))
    for i in range(6):
        _click_song(tmp_path, f"song{i}", clicks, 3 * SR, rng, stereo=i == 0)
    dm = MultiTrackDataModule(_cfg(tmp_path), seed=0)
    dm.prepare_data()
    dm.setup()
    torch.manual_seed(0)
    seen = 0
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        for batch in loader:
            audio = batch["audio"]
            assert audio.dtype == torch.float32 and audio.shape[1:] == (4, 1, SR // 2)
            for b in range(audio.shape[0]):
                start = round(float(batch["start"][b]) * SR)
                expected = [c - start for c in clicks if start <= c < start + SR // 2]
                for k, t in enumerate(TRACKS):
                    peaks = torch.nonzero(audio[b, k, 0].abs() > 0.5 * GAINS[t]).flatten().tolist()
                    assert peaks == expected, (batch["song_id"][b], t)
                    seen += len(peaks)
    assert seen > 0


def test_gain_scaling_and_mix(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(3):
        _click_song(tmp_path, f"song{i}", [100], SR, rng)
    dm = MultiTrackDataModule(_cfg(tmp_path), seed=0)
    dm.setup()
    batch = next(iter(dm.val_dataloader()))
    song = tmp_path / batch["song_id"][0]
    raw = np.stack([sf.read(song / f"{t}.wav", frames=SR // 2, dtype="float32")[0] for t in TRACKS])[:, None]
    gains = [GAINS[t] for t in TRACKS]
    assert torch.allclose(batch["audio"][0], torch.from_numpy(raw) * torch.tensor(gains)[:, None, None], atol=1e-6)
    assert torch.allclose(mix_stems(torch.from_numpy(raw), gains), mix_stems(batch["audio"][0]), atol=1e-6)


def test_silent_windows_are_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "half"
    folder.mkdir()
    x = np.zeros(2 * SR, dtype=np.float32)
    x[SR:] = 0.3 * np.sin(np.arange(SR) * 0.2)
    for t in TRACKS:
        sf.write(folder / f"{t}.wav", x, SR)
    (folder / "meta.json").write_text("{}")
    dm = MultiTrackDataModule(_cfg(tmp_path, test_fraction=0.0, val_fraction=0.0), seed=0)
    dm.setup()
    ds = dm.datasets["train"]
    torch.manual_seed(0)
    for _ in range(30):
        item = ds[0]
        assert item["audio"].pow(2).mean() > 1e-4 and item["start"] >= 0.5 - 256 / SR


def test_prompts_train_and_eval() -> None:
    meta = SongMeta(tags={"genre": "funk", "tempo": 104, "key": "A minor", "mood": "groovy"}, caption="Funky.")
    assert build_prompt(meta, PromptConfig()) == "funk, groovy, 104 bpm, A minor"
    rng = np.random.default_rng(0)
    prompts = {build_prompt(meta, PromptConfig(), rng) for _ in range(50)}
    assert "Funky." in prompts and len(prompts) > 3
    no_caption = PromptConfig(caption_probability=0.0, tag_dropout=0.0, shuffle_tags=False)
    assert build_prompt(meta, no_caption, rng) == "funk, groovy, 104 bpm, A minor"


def test_eval_grid_sharded_over_two_ranks_covers_every_window(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    for i in range(10):
        _click_song(tmp_path, f"song{i}", [100], 2 * SR, rng)
    dm = MultiTrackDataModule(_cfg(tmp_path, val_fraction=0.0, test_fraction=0.5), seed=0)
    dm.setup()
    ds = dm.datasets["test"]
    shards = [list(DistributedSampler(ds, num_replicas=2, rank=r, shuffle=False)) for r in range(2)]
    flat = shards[0] + shards[1]
    assert set(flat) == set(range(len(ds))) and len(flat) - len(set(flat)) <= 1
    songs = {ds[i]["song_id"] for i in flat}
    assert songs == set(dm.splits["test"]) and not songs & set(dm.splits["train"])
