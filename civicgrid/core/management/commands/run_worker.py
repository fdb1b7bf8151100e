"""manage.py run_worker [--once] [--poll SECONDS] [--batch N] [--id NAME]

Runs the registered background jobs (civicgrid.core.worker) until SIGTERM or SIGINT, then finishes the
batch in hand and exits with status 0. Several workers may run at once on PostgreSQL.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.core.worker import Worker


class Command(BaseCommand):
    help = "Run the background jobs (notification delivery, deadline sweeps) until stopped."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")
        parser.add_argument(
            "--poll", type=float, default=2.0, help="seconds to wait when no job had work (default 2)"
        )
        parser.add_argument("--batch", type=int, default=200, help="rows a job handles per run (default 200)")
        parser.add_argument(
            "--id",
            dest="worker_id",
            default=f"{socket.gethostname()}:{os.getpid()}",
            help="this worker's name in claimed rows (default host:pid)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        poll: float = options["poll"]
        batch: int = options["batch"]
        worker_id: str = options["worker_id"].strip()
        if not math.isfinite(poll) or poll <= 0:
            raise CommandError(
                _("--poll must be a number of seconds above 0, got %(value)s.") % {"value": poll}
            )
        if batch < 1:
            raise CommandError(_("--batch must be at least 1, got %(value)s.") % {"value": batch})
        if not worker_id or len(worker_id) > 128:
            raise CommandError(_("--id must be 1 to 128 characters."))

        worker = Worker(worker_id, batch=batch, poll_seconds=poll)
        if options["once"]:
            done = worker.run_once()
            self.stdout.write(
                _("worker %(id)s: %(count)d item(s) processed") % {"id": worker_id, "count": done}
            )
            return

        def request_stop(signum: int, frame: FrameType | None) -> None:
            # From a thread: the handler runs on the main thread, possibly while it holds the stop
            # Event's internal lock inside wait(); setting the Event right here could deadlock.
            threading.Thread(target=worker.stop, name="worker-stop", daemon=True).start()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        # Lifecycle lines stay English, like log lines: supervisors and scripts wait for them.
        self.stderr.write(f"worker {worker_id} started (jobs: {', '.join(worker.jobs) or '-'})")
        self.stderr.flush()
        try:
            worker.run_forever()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stderr.write(f"worker {worker_id} stopped")
        self.stderr.flush()
