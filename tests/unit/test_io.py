"""Atomic writes leave the old file intact when writing fails half-way."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from jen_composer.core.io import (
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    clean_stale_temps,
    writer_token,
)


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


def test_atomic_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644  # mkstemp alone gives 0600
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600


def test_a_writer_that_recreates_the_temp_file_still_follows_the_umask(tmp_path: Path) -> None:
    """safetensors' save_file replaces the file it is given (an exported autoencoder came out 0600)."""
    from jen_composer.core.io import atomic_path

    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "w.bin") as tmp:
            tmp.unlink()
            fd = os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600)
            os.write(fd, b"x")
            os.close(fd)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "w.bin").stat().st_mode) == 0o644


def test_temp_left_by_a_killed_writer_is_removed(tmp_path: Path) -> None:
    """A writer killed between mkstemp and rename leaves `.name.<pid>.*.tmp`; the next write cleans it."""
    code = ("import os, sys; from jen_composer.core.io import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'half'); os.kill(os.getpid(), 9)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ckpt.bin")], env=os.environ.copy())
    assert proc.returncode == -9
    litter = list(tmp_path.glob(".ckpt.bin.*.tmp"))
    assert len(litter) == 1 and not (tmp_path / "ckpt.bin").exists()
    atomic_write_text(tmp_path / "other.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt"]


def test_temp_of_a_live_or_remote_writer_is_kept(tmp_path: Path) -> None:
    live = tmp_path / f".f.txt.{writer_token()}.abc123.tmp"
    live.write_text("in progress")
    other_host = tmp_path / f".g.txt.{2**22 + 1}-000000.abc123.tmp"  # a dead pid, but another host's
    other_host.write_text("in progress elsewhere")
    assert clean_stale_temps(tmp_path) == [] and live.exists() and other_host.exists()


def test_one_line_of_an_empty_message_names_the_type() -> None:
    """An exception with an empty message (e.g. a truncated file's parser error) still gives one line."""
    from jen_composer.core.errors import one_line

    assert one_line(ValueError("")) == "ValueError"
    assert one_line(OSError("first\nsecond")) == "first"
