from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.stats.refresh import do_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every case's statistics and every rollup from the case tables (after changing the area "
        "tree or the category tree, or to start afresh). Readers see the old figures until it commits."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = do_rebuild(actor=None)
        self.stdout.write(
            f"{report.cases} cases: {report.daily_rows} daily, {report.monthly_rows} monthly and "
            f"{report.duration_rows} duration rows; facts {report.facts_seconds:.1f} s, "
            f"rollups {report.rollup_seconds:.1f} s"
        )
