"""`probe-train`: build the training and held-out sets, fit, save with its checksum, report accuracy.

The report gives the probe's accuracy per head on held-out real stems (per track and mix), on
spectrum-shaped noise made from the same held-out clips, and the majority-class (chance) accuracy.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from jen_composer.core.config.data import DataConfig
from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.io import atomic_write_json, atomic_write_text
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.metrics.benchmark import split_songs
from jen_composer.metrics.controls import shaped_noise
from jen_composer.metrics.probe.features import HEADS, clip_features
from jen_composer.metrics.probe.train import ProbeSet, build_set, chance, fit_probe, head_accuracy


def noise_set(root: Path, songs: list[str], data: DataConfig, ev: EvaluationConfig, seed: int) -> ProbeSet:
    """The held-out windows again, each replaced by noise shaped like its spectrum (same targets)."""
    from jen_composer.metrics.benchmark import load_song
    from jen_composer.metrics.probe.features import targets
    from jen_composer.metrics.probe.train import windows

    rng = np.random.default_rng(seed)
    sr, out = ev.coherence.sample_rate, ProbeSet()
    size = int(round(ev.probe.window_seconds * sr))
    for song_id in tqdm(songs, desc="probe noise", unit="song"):
        song = load_song(root, song_id, data.tracks, sr)
        signals = {**song.stems, MIX: mix_stems(song.stems)}
        for name, wave in signals.items():
            want = targets(song.labels, None if name == "mix" else name, ev.probe.tempo_edges, ev.coherence.drums_track)
            for win in windows(len(wave), size, ev.probe.windows_per_song):
                out.add(clip_features(shaped_noise(wave[win], sr, rng), sr), want, name)
    return out


def _table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| set | " + " | ".join(HEADS) + " |", "|---|" + "---:|" * len(HEADS)]
    for name, acc in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{acc[h]:.2f}" if h in acc else "-" for h in HEADS) + " |")
    return "\n".join(lines) + "\n"


def train_and_report(root: Path, out: Path, ev: EvaluationConfig, data: DataConfig, workers: int = 1) -> dict[str, Any]:
    """Train on ``root``'s train split, save ``out/probe.pt`` (+ .sha256), report on its test split."""
    start = time.time()
    sr = ev.coherence.sample_rate
    split = (data.split_seed, data.test_fraction, data.val_fraction)
    train_songs, test_songs = split_songs(root, "train", *split), split_songs(root, "test", *split)
    def bar(desc: str, total: int) -> Any:
        return lambda items: tqdm(items, desc=desc, unit="song", total=total)

    drums = ev.coherence.drums_track
    train = build_set(root, train_songs, data.tracks, sr, ev.probe, drums, bar("probe train", len(train_songs)), workers)
    test = build_set(root, test_songs, data.tracks, sr, ev.probe, drums, bar("probe test", len(test_songs)), workers)
    probe = fit_probe(train, ev.probe, ev.seed, ev.coherence.drums_track)
    out.mkdir(parents=True, exist_ok=True)
    sha = probe.save(out / "probe.pt")
    noise = noise_set(root, test_songs, data, ev, ev.seed)
    rows = {"train (real)": head_accuracy(probe, train), "held-out real, all": head_accuracy(probe, test)}
    for track in [*data.tracks, "mix"]:
        rows[f"held-out real, {track}"] = head_accuracy(probe, test, [track])
    rows["held-out shaped noise, all"] = head_accuracy(probe, noise)
    rows["chance (majority class, held-out)"] = chance(test)
    md = (f"Probe {out / 'probe.pt'} (sha256 {sha}); {len(train_songs)} training songs, {len(test_songs)} "
          f"held-out songs, {ev.probe.windows_per_song} windows of {ev.probe.window_seconds:g} s per stem and mix; "
          f"{time.time() - start:.0f} s.\n\n" + _table(rows))
    atomic_write_text(out / "probe_report.md", md)
    atomic_write_json(out / "probe_report.json", {"sha256": sha, "data": str(root), "train_songs": len(train_songs),
                                                  "test_songs": len(test_songs), "accuracy": rows})
    return {"sha256": sha, "markdown": md, "accuracy": rows}
