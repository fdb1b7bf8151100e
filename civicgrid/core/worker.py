"""The background worker: one long-running process (``manage.py run_worker``) that runs periodic jobs.

There is no message broker. Work waiting to be done lives in ordinary tables (the notification outbox,
cases whose deadline passed), written in the same transaction as the change that caused it, so nothing
is lost or sent for a change that rolled back, and backups hold the queue with the data. Jobs claim rows
with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers can run at once; on SQLite
writers are serialized and claims are conditional UPDATEs. One process less to deploy and watch.

Apps register their jobs in ``AppConfig.ready()``::

    register_job("notifications.deliver", deliver)   # deliver(context: WorkerContext) -> int

A job does one bounded batch and returns how much work it did; the worker loops without pausing while
any job reports work and waits ``poll_seconds`` when none did.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import close_old_connections, connections
from django.utils import timezone

logger = logging.getLogger("civicgrid.worker")

# A job that raised waits this many poll intervals before its next run, so a persistent fault (a table
# missing before migrate, a bug) produces one traceback a while instead of a crash loop.
FAILURE_PAUSE_POLLS = 10


@dataclass(frozen=True)
class WorkerContext:
    worker_id: str
    now: datetime
    batch: int


Job = Callable[[WorkerContext], int]

_jobs: dict[str, Job] = {}


def register_job(name: str, func: Job) -> None:
    """Add a job under a stable name ("app.verb"); registering a name again replaces the job."""
    _jobs[name] = func


def registered_jobs() -> dict[str, Job]:
    return dict(_jobs)


class Worker:
    def __init__(
        self,
        worker_id: str,
        *,
        batch: int = 200,
        poll_seconds: float = 2.0,
        jobs: Mapping[str, Job] | None = None,
    ) -> None:
        self.worker_id = worker_id
        self.batch = batch
        self.poll_seconds = poll_seconds
        # None: the registry as it is when each round starts (apps register in ready()).
        self._jobs = dict(jobs) if jobs is not None else None
        self._stop = threading.Event()
        self._paused_until: dict[str, float] = {}  # job name → time.monotonic() when it may run again

    @property
    def jobs(self) -> dict[str, Job]:
        return dict(self._jobs) if self._jobs is not None else registered_jobs()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the loop to end after the job that is running now. Do not call it from a signal handler
        directly: see run_worker, which calls it from a thread."""
        self._stop.set()

    def run_once(self) -> int:
        """Run every job once (except those pausing after a failure); return the total work done."""
        return self._round(stop_early=False)

    def run_forever(self) -> None:
        """Run rounds until stop(); wait poll_seconds after a round in which no job had work."""
        while not self._stop.is_set():
            if self._round(stop_early=True) == 0:
                # An Event, not time.sleep: stop() ends the wait at once.
                self._stop.wait(self.poll_seconds)

    def _round(self, *, stop_early: bool) -> int:
        total = 0
        for name, job in self.jobs.items():
            if stop_early and self._stop.is_set():
                break
            total += self._run_job(name, job)
        return total

    def _run_job(self, name: str, job: Job) -> int:
        if time.monotonic() < self._paused_until.get(name, 0.0):
            return 0
        _tidy_connections()
        try:
            done = job(WorkerContext(worker_id=self.worker_id, now=timezone.now(), batch=self.batch))
        except Exception:
            pause = self.poll_seconds * FAILURE_PAUSE_POLLS
            logger.exception("worker %s: job %s failed; next run in %.0f s", self.worker_id, name, pause)
            self._paused_until[name] = time.monotonic() + pause
            return 0
        finally:
            # A job that failed may have left a broken connection; the next job must not inherit it.
            _tidy_connections()
        self._paused_until.pop(name, None)
        return max(done, 0)


def _tidy_connections() -> None:
    """Close connections that are broken or past CONN_MAX_AGE, as Django does around each request.

    Not while a caller holds a transaction open (run_once inside a test, or inside an atomic block):
    closing would end that transaction under its feet.
    """
    if any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        return
    close_old_connections()
