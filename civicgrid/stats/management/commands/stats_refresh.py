from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.stats.refresh import do_refresh


class Command(BaseCommand):
    help = "Fold every changed case into the statistics now (the worker's job stats.refresh, run to the end)."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while done := do_refresh(actor=None, limit=2000):
            total += done
        self.stdout.write(f"{total} cases folded in")
