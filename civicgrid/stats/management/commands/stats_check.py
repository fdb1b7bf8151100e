from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from civicgrid.stats import check
from civicgrid.stats.refresh import do_rebuild, do_refresh


class _Rollback(Exception):  # noqa: N818 — control flow only
    pass


class Command(BaseCommand):
    help = (
        "Prove the kept figures equal a full recount: fold in pending changes, then rebuild inside a "
        "transaction that is rolled back, and compare every fact and rollup row. Changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        while do_refresh(actor=None, limit=2000):
            pass
        kept = check.snapshot()
        try:
            with transaction.atomic():
                do_rebuild(actor=None)
                recounted = check.snapshot()
                raise _Rollback
        except _Rollback:
            pass
        found = check.differences(kept, recounted)
        if found:
            for d in found:
                self.stderr.write(f"{d.table} {d.key}: kept {d.kept}, recount {d.recounted}")
            raise CommandError("the kept figures differ from a recount (run stats_rebuild)")
        rows = sum(len(rows) for rows in kept.values())
        self.stdout.write(f"the kept figures equal a recount ({rows} rows compared)")
