"""The adherence probe: targets per track, a fit that learns, a file verified by its checksum."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.core.config.evaluation import ProbeConfig
from jen_composer.core.errors import CheckpointError
from jen_composer.metrics.probe.features import clip_features, feature_size, key_class, targets, tempo_class
from jen_composer.metrics.probe.model import Probe, checksum_path
from jen_composer.metrics.probe.train import ProbeSet, chance, fit_probe, head_accuracy
from jen_composer.metrics.synthetic import synth_song

SR = 16000
LABELS = {"genre": "pop", "key": "Eb minor", "tempo": 128, "programs": {"bass": 33, "melody": 73}}


def test_targets_per_track() -> None:
    edges = [105.0, 120.0, 130.0]
    assert targets(LABELS, "bass", edges) == {"genre": "pop", "key": "Eb minor", "tempo": "120-130", "family": "bass"}
    assert targets(LABELS, "drums", edges)["key"] is None and targets(LABELS, "drums", edges)["family"] == "drums"
    assert targets(LABELS, None, edges)["family"] is None  # a mix has no single instrument family
    assert targets(LABELS, "melody", edges)["family"] == "pipe"  # GM 73 (flute)
    assert key_class("D# minor") == "Eb minor" and tempo_class(90, edges) == "<105" and tempo_class(140, edges) == ">=130"


@pytest.fixture(scope="module")
def tiny_set() -> ProbeSet:
    data = ProbeSet()
    for i in range(4):  # two "genres" that differ in tempo and key; two songs each
        fast = i % 2 == 0
        song = synth_song(128 if fast else 96, [0, 5, 7, 0] if fast else [3, 8, 10, 3], 2.0, sr=SR, seed=i)
        labels = {"genre": "rock" if fast else "jazz", "key": "C major" if fast else "Eb major",
                  "tempo": 128 if fast else 96}
        for track, wave in song.stems.items():
            data.add(clip_features(wave, SR), targets(labels, track, [105.0]), track)
    return data


def test_probe_fits_saves_and_verifies(tiny_set: ProbeSet, tmp_path: Path) -> None:
    cfg = ProbeConfig(hidden=16, epochs=150, tempo_edges=[105.0])
    probe = fit_probe(tiny_set, cfg, seed=0)
    acc = head_accuracy(probe, tiny_set)
    assert acc["genre"] == 1.0 and acc["tempo"] == 1.0 and chance(tiny_set)["genre"] == 0.5
    path = tmp_path / "probe.pt"
    sha = probe.save(path)
    loaded = Probe.load(path)
    assert loaded.sha256 == sha and checksum_path(path).read_text().startswith(sha)
    assert head_accuracy(loaded, tiny_set) == acc
    emb = loaded.embed(torch.zeros(3, SR), SR)
    assert emb.shape == (3, 16) and feature_size() == len(tiny_set.features[0])
    assert math.isnan(loaded.accuracy(np.zeros(SR, np.float32), SR, {}, "bass"))  # no label: nothing to measure
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(CheckpointError, match="sha256"):
        Probe.load(path)
    checksum_path(path).unlink()
    with pytest.raises(CheckpointError, match="checksum file"):
        Probe.load(path)
