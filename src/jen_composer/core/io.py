"""Atomic file writes: write to a temporary sibling, fsync, then ``os.replace``.

A crash or SIGKILL mid-write leaves either the old file or the new one, never half of one. The
temporary name carries the writer's process id and host (``.<name>.<pid>-<host>.<random>.tmp``), so
the next write into the same folder removes what a killed writer on this host left behind (a
writer on another host sharing the folder is never touched); finished files get the permissions
the umask gives a normal ``open()`` (``mkstemp`` alone would leave them 0600).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".tmp"
HOST_TAG = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def writer_token(pid: int | None = None) -> str:
    """``<pid>-<host tag>``: who owns a temporary file."""
    return f"{os.getpid() if pid is None else pid}-{HOST_TAG}"


def current_umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read by setting, then restore at once
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove ``folder``'s temporary files whose writer process is gone (killed mid-write)."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for tmp in folder.glob(f".*{TEMP_SUFFIX}"):
        parts = tmp.name.rsplit(".", 3)  # ['.<name>', '<pid>-<host>', '<random>', 'tmp']
        pid, _, host = parts[1].partition("-") if len(parts) == 4 else ("", "", "")
        if host == HOST_TAG and pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp) if tmp.is_dir() and not tmp.is_symlink() else tmp.unlink()
                removed.append(tmp)
    return removed


def _temp_name(target: Path) -> str:
    return f".{target.name}.{writer_token()}."


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` whole.

    On any error the temporary folder is removed, so a failed command never leaves half a song
    (or half an export) where a complete one is expected.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_name(target), suffix=TEMP_SUFFIX, dir=target.parent))
    os.chmod(tmp, 0o777 & ~current_umask())
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f"{_temp_name(target)}old{TEMP_SUFFIX}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it into place atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=_temp_name(target), suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    mode = 0o666 & ~current_umask()  # what open() would give, not mkstemp's 0o600
    os.chmod(tmp, mode)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, mode)  # again: a writer that recreates the file (safetensors' save_file does) sets its own
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """torch.save, atomically, through memory: torch names the archive after the file it writes, so
    saving to the temp file directly would make the bytes depend on its random name."""
    import io as _io

    import torch

    buffer = _io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Render a matplotlib figure to PNG, close it (figures hold memory until closed), write atomically."""
    import io as _io

    import matplotlib.pyplot as plt

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def read_json_object(path: str | os.PathLike[str], error: type[Exception], missing: str = "missing",
                     hint: str = "") -> dict[str, Any]:
    """A JSON object from ``path``, or ``error`` with one line naming the file (missing, corrupt, not an object)."""
    import json

    suffix = f"; {hint}" if hint else ""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {missing}{suffix}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: corrupt JSON ({exc}){suffix}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object{suffix}")
    return data
