from __future__ import annotations

import importlib
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from civicgrid.demo.context import DEMO_PASSWORD, DEMO_STEPS, DemoContext


class Command(BaseCommand):
    help = "Load the demo district (长沙市天心区) from ../shared/data. Idempotent: a second run adds nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases",
            type=int,
            default=None,
            metavar="N",
            help="turn only N of the real messages into demo cases (default: all of them, about 3,200)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = settings.SHARED_DATA_DIR
        if not (data_dir / "divisions" / "areas.csv").exists():
            raise CommandError(f"the shared data folder is missing: {data_dir} (set CIVICGRID_SHARED_DATA)")
        ctx = DemoContext(
            data_dir=data_dir,
            say=self.stdout.write,
            password_hash=make_password(DEMO_PASSWORD),
            case_limit=options["cases"],
        )
        started = time.monotonic()
        # One transaction: a failed step leaves the database as it was, and SQLite writes far faster.
        with transaction.atomic():
            for dotted in DEMO_STEPS:
                step_started = time.monotonic()
                importlib.import_module(dotted).load(ctx)
                self.stdout.write(f"  {dotted}: {time.monotonic() - step_started:.1f} s")
        self.stdout.write(self.style.SUCCESS(f"Demo district loaded in {time.monotonic() - started:.1f} s"))
