"""Splits: disjoint by song, 4:1 train:test, stable per seed, a user manifest is validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jen_composer.core.errors import DataError
from jen_composer.data.splits import make_splits, resolve_splits, write_splits

SONGS = [f"s{i:03d}" for i in range(50)]


def test_disjoint_and_complete() -> None:
    s = make_splits(SONGS, seed=0, test_fraction=0.2, val_fraction=0.1)
    sets = [set(s[k]) for k in ("train", "val", "test")]
    assert sum(len(x) for x in sets) == len(SONGS) and set.union(*sets) == set(SONGS)
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert len(s["test"]) == 10 and len(s["val"]) == 4  # 4:1 train:test, val carved from train


def test_stable_per_seed_and_order_independent() -> None:
    a = make_splits(SONGS, 3, 0.2, 0.1)
    b = make_splits(list(reversed(SONGS)), 3, 0.2, 0.1)
    assert a == b
    assert make_splits(SONGS, 4, 0.2, 0.1)["test"] != a["test"]


def test_tiny_dataset_gets_every_split() -> None:
    s = make_splits(["a", "b", "c"], 0, 0.2, 0.1)
    assert all(len(s[k]) == 1 for k in ("train", "val", "test"))


def test_generated_manifest_follows_config(tmp_path: Path) -> None:
    write_splits(tmp_path, SONGS, 0, 0.2, 0.1)
    assert resolve_splits(tmp_path, SONGS, 1, 0.2, 0.1)["test"] == make_splits(SONGS, 1, 0.2, 0.1)["test"]


def test_user_manifest_is_kept_and_checked(tmp_path: Path) -> None:
    (tmp_path / "splits.json").write_text(json.dumps({"train": ["s000", "s001"], "val": [], "test": ["s002"]}))
    write_splits(tmp_path, SONGS, 0, 0.2, 0.1)  # must not overwrite a user manifest
    assert resolve_splits(tmp_path, SONGS, 0, 0.2, 0.1)["test"] == ["s002"]
    (tmp_path / "splits.json").write_text(json.dumps({"train": ["s000"], "test": ["s000"]}))
    with pytest.raises(DataError, match="s000.*both"):
        resolve_splits(tmp_path, SONGS, 0, 0.2, 0.1)
