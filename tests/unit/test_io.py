"""Atomic writes leave the old file intact when writing fails half-way."""

from __future__ import annotations

from pathlib import Path

import pytest

from jen_composer.core.io import atomic_path, atomic_write_json, atomic_write_text


def test_atomic_write_replaces_and_failure_keeps_old(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one")
    assert target.read_text() == "one"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "one"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]  # no temp file left behind
    atomic_write_json(target, {"a": 1})
    assert '"a": 1' in target.read_text()
