"""The background worker: the job registry, the loop, and the run_worker command (including SIGTERM)."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.core.worker import Worker, WorkerContext, registered_jobs
from civicgrid.notifications.actions import do_enqueue_notification
from civicgrid.notifications.models import Channel, Notification, Status


def test_notification_delivery_is_registered() -> None:
    assert "notifications.deliver" in registered_jobs()


@pytest.mark.django_db  # the worker tidies connections between jobs
def test_run_once_sums_the_work_and_a_failing_job_pauses_without_stopping_the_others(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[WorkerContext] = []
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])

    def busy(context: WorkerContext) -> int:
        seen.append(context)
        return 3

    def broken(context: WorkerContext) -> int:
        raise RuntimeError("table missing")

    worker = Worker(
        "w1", batch=7, poll_seconds=2, jobs={"a.busy": busy, "b.broken": broken, "c.idle": lambda c: 0}
    )
    with caplog.at_level("ERROR", logger="civicgrid.worker"):
        assert worker.run_once() == 3
    assert "job b.broken failed" in caplog.text
    assert "RuntimeError: table missing" in caplog.text
    assert (seen[0].worker_id, seen[0].batch) == ("w1", 7)

    caplog.clear()
    clock[0] += 19  # inside the pause of poll_seconds × 10 = 20 s: the broken job is not run
    assert worker.run_once() == 3
    assert not caplog.text
    clock[0] += 2
    with caplog.at_level("ERROR", logger="civicgrid.worker"):
        worker.run_once()
    assert "job b.broken failed" in caplog.text
    assert len(seen) == 3


@pytest.mark.django_db  # the worker tidies connections between jobs
def test_run_forever_keeps_going_while_there_is_work_and_stops_at_once_when_idle() -> None:
    rounds: list[int] = []
    backlog = [3]

    def drain(context: WorkerContext) -> int:
        rounds.append(backlog[0])
        if backlog[0]:
            backlog[0] -= 1
            return 1
        return 0

    # A long poll: the idle wait must end as soon as stop() is called, not after 60 s.
    worker = Worker("w1", poll_seconds=60, jobs={"drain": drain})
    thread = threading.Thread(target=worker.run_forever)
    started = time.monotonic()
    thread.start()
    while len(rounds) < 4 and time.monotonic() - started < 5:
        time.sleep(0.01)
    assert rounds == [3, 2, 1, 0]  # no pause while there was work
    worker.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 5


@pytest.mark.django_db
def test_run_worker_once_delivers() -> None:
    row = do_enqueue_notification(
        channel=Channel.SMS,
        kind="case.accepted",
        subject="已受理",
        body="",
        address="13812345678",
        actor=None,
    )
    assert row is not None
    out = io.StringIO()
    call_command("run_worker", "--once", "--id", "test-worker", stdout=out)
    assert "worker test-worker:" in out.getvalue()
    assert "processed" in out.getvalue()
    row.refresh_from_db()
    assert (row.status, row.claimed_by) == (Status.SENT, "test-worker")
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--poll", "0"], "--poll must be"),
        (["--poll", "nan"], "--poll must be"),
        (["--batch", "0"], "--batch"),
    ],
)
def test_run_worker_rejects_bad_options(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("run_worker", "--once", *args)


class _Lines:
    """Reads a subprocess's stderr in a thread so the test can wait for a line with a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stderr is not None
        stream = process.stderr

        def pump() -> None:
            for line in stream:
                self.lines.put(line)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s; stderr so far:\n{''.join(self.seen)}")


def test_sigterm_finishes_the_batch_and_exits_cleanly(tmp_path: Path) -> None:
    """A real process against its own SQLite file (the tests' database is invisible to a subprocess)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "CIVICGRID_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, timeout=60)
    enqueue = (
        "from civicgrid.notifications.actions import do_enqueue_notification as q; "
        "q(channel='sms', kind='case.accepted', subject='已受理', body='', address='13812345678', actor=None)"
    )
    subprocess.run([*manage, "shell", "-c", enqueue], env=env, check=True, timeout=30)

    process = subprocess.Popen(
        [*manage, "run_worker", "--poll", "0.2", "--id", "sigterm-test"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _Lines(process)
        lines.wait_for("worker sigterm-test started", timeout=15)
        # The queued SMS goes out through the log backend, its phone masked.
        assert "138****5678" in lines.wait_for("sms to", timeout=10)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        lines.wait_for("worker sigterm-test stopped", timeout=2)
        assert "13812345678" not in "".join(lines.seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
