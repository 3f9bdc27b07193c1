"""Background generation jobs with progress, so a request returns at once and the page polls.

A job waits for its session's lock before it runs, so two generation requests on one session are
queued and applied one after the other instead of interleaving.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from jen_composer.composition.session import Session
from jen_composer.core.errors import JenComposerError
from jen_composer.inference.engine import ProgressFn


@dataclass
class Job:
    id: str
    session: str
    kind: str
    status: str = "queued"  # queued | running | done | error
    step: int = 0
    total: int = 0
    round: int | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class JobManager:
    """Runs session operations on daemon threads and keeps their status for polling."""

    def __init__(self, keep: int = 200) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def submit(self, sid: str, session: Session, kind: str, op: Callable[[ProgressFn], Any]) -> Job:
        job = Job(id=uuid.uuid4().hex, session=sid, kind=kind)
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs.values(), key=lambda j: j.created)[: max(0, len(self._jobs) - self._keep)]:
                if old.status in ("done", "error"):
                    del self._jobs[old.id]

        def progress(step: int, total: int) -> None:
            job.step, job.total = step, total

        def work() -> None:
            with session.lock:
                job.status = "running"
                try:
                    rnd = op(progress)
                    job.round = getattr(rnd, "index", None)
                    job.status = "done"
                except JenComposerError as exc:
                    job.error, job.status = str(exc), "error"
                except Exception as exc:  # the page must learn that it failed, not poll forever
                    job.error, job.status = f"internal error: {type(exc).__name__}: {exc}", "error"

        threading.Thread(target=work, name=f"job-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def active(self, sid: str) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.session == sid and j.status in ("queued", "running")]
