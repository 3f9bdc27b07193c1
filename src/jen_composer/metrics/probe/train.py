"""Train the probe on a benchmark's real training stems and mixes; measure it on held-out songs.

``build_set`` cuts ``windows_per_song`` evenly spaced windows from every stem and the mix of each
song, and computes their features and targets. ``fit_probe`` trains the MLP full-batch with AdamW
and masked cross-entropy (a head without a target for a clip, e.g. key on drums, is skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jen_composer.core.config.evaluation import ProbeConfig
from jen_composer.core.seed import seed_everything
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.data.synth.theory import NOTE_NAMES
from jen_composer.metrics.benchmark import load_song
from jen_composer.metrics.probe.features import (
    DRUMS_FAMILY,
    GM_FAMILIES,
    HEADS,
    clip_features,
    feature_size,
    targets,
    tempo_classes,
)
from jen_composer.metrics.probe.model import Probe, ProbeNet


@dataclass
class ProbeSet:
    features: list[np.ndarray] = field(default_factory=list)
    targets: list[dict[str, str | None]] = field(default_factory=list)
    track: list[str] = field(default_factory=list)  # the stem's name, or "mix"

    def add(self, feats: np.ndarray, want: dict[str, str | None], track: str) -> None:
        self.features.append(feats)
        self.targets.append(want)
        self.track.append(track)


def all_classes(cfg: ProbeConfig) -> dict[str, list[str]]:
    """Every class each head can answer (fixed, so probes trained on subsets stay comparable)."""
    keys = [f"{n} {m}" for m in ("major", "minor") for n in NOTE_NAMES]
    from jen_composer.data.synth.genres import GENRES

    return {"genre": sorted(GENRES), "key": keys, "tempo": tempo_classes(cfg.tempo_edges),
            "family": [*GM_FAMILIES, DRUMS_FAMILY]}


def windows(n: int, size: int, count: int) -> list[slice]:
    """``count`` evenly spaced windows of ``size`` samples (the whole clip when it is shorter)."""
    if n <= size:
        return [slice(0, n)]
    return [slice(int(s), int(s) + size) for s in np.linspace(0, n - size, count)]


def song_windows(root: Path, song_id: str, tracks: Sequence[str], sample_rate: int, cfg: ProbeConfig,
                 drums_track: str = "drums") -> list[tuple[np.ndarray, dict[str, str | None], str]]:
    """(features, targets, stem name) of every window of one song's stems and mix."""
    song = load_song(root, song_id, tracks, sample_rate)
    size = int(round(cfg.window_seconds * sample_rate))
    signals = {**song.stems, MIX: mix_stems(song.stems)}
    out = []
    for name, wave in signals.items():
        want = targets(song.labels, None if name == "mix" else name, cfg.tempo_edges, drums_track)
        out += [(clip_features(wave[win], sample_rate), want, name)
                for win in windows(len(wave), size, cfg.windows_per_song)]
    return out


def build_set(root: Path, songs: Sequence[str], tracks: Sequence[str], sample_rate: int, cfg: ProbeConfig,
              drums_track: str = "drums", progress: Callable[[Any], Any] = lambda x: x, workers: int = 1) -> ProbeSet:
    """Features and targets of every stem and mix window of ``songs`` (``workers`` processes)."""
    out = ProbeSet()
    job = partial(song_windows, root, tracks=tracks, sample_rate=sample_rate, cfg=cfg, drums_track=drums_track)
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            results = list(progress(pool.map(job, songs)))
    else:
        results = [job(s) for s in progress(songs)]
    for rows in results:
        for feats, want, name in rows:
            out.add(feats, want, name)
    return out


def _target_tensor(data: ProbeSet, head: str, classes: list[str]) -> torch.Tensor:
    index = {c: i for i, c in enumerate(classes)}
    return torch.tensor([index[t[head]] if t[head] is not None else -100 for t in data.targets])


def fit_probe(data: ProbeSet, cfg: ProbeConfig, seed: int = 0, drums_track: str = "drums") -> Probe:
    """Full-batch AdamW on masked cross-entropy over every head."""
    seed_everything(seed)
    classes = all_classes(cfg)
    x = torch.from_numpy(np.stack(data.features))
    net = ProbeNet(feature_size(), cfg.hidden, classes)
    net.mean.copy_(x.mean(dim=0))
    net.std.copy_(x.std(dim=0).clamp(min=1e-3))
    ys = {h: _target_tensor(data, h, classes[h]) for h in HEADS}
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    net.train()
    for _ in range(cfg.epochs):
        opt.zero_grad()
        logits = net(x)
        loss = sum(torch.nn.functional.cross_entropy(logits[h], ys[h], ignore_index=-100) for h in HEADS)
        loss.backward()
        opt.step()
    settings = {"features": feature_size(), "hidden": cfg.hidden, "tempo_edges": list(cfg.tempo_edges),
                "drums_track": drums_track, "window_seconds": cfg.window_seconds, "seed": seed}
    return Probe(net, classes, settings)


def head_accuracy(probe: Probe, data: ProbeSet, tracks: Sequence[str] | None = None) -> dict[str, float]:
    """Accuracy per head over the clips of ``tracks`` (all when None) that define that head."""
    keep = [i for i, t in enumerate(data.track) if tracks is None or t in tracks]
    if not keep:
        return {}
    pred = probe.predict_features(np.stack([data.features[i] for i in keep]))
    out = {}
    for h in HEADS:
        hits = [pred[h][j] == data.targets[i][h] for j, i in enumerate(keep) if data.targets[i][h] is not None]
        if hits:
            out[h] = float(np.mean(hits))
    return out


def chance(data: ProbeSet) -> dict[str, float]:
    """Majority-class accuracy per head: what a probe that ignores the audio would score."""
    out = {}
    for h in HEADS:
        vals = [t[h] for t in data.targets if t[h] is not None]
        if vals:
            _, counts = np.unique(vals, return_counts=True)
            out[h] = float(counts.max() / len(vals))
    return out
