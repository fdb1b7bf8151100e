"""A slice of the demo district for module fixtures: the demo geography, staff and the first ``limit`` demo
cases, counted by the statistics, inside an outer transaction that is rolled back when the module is done
(tests/stats/test_report.py, tests/assessment/test_demo.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module

import pytest
from django.conf import settings
from django.db import transaction

from civicgrid.cases import limits
from civicgrid.cases.demo import load
from civicgrid.demo.context import DemoContext
from civicgrid.grids.lookup import reset_grid_index
from civicgrid.stats.refresh import do_refresh
from tests.conftest import restore_seed_data

GEOGRAPHY = ("civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo")


@contextmanager
def demo_slice(
    blocker: pytest.FixtureRequest, limit: int, then: Callable[[DemoContext], None] | None = None
) -> Iterator[DemoContext]:
    ctx = DemoContext(data_dir=settings.SHARED_DATA_DIR, say=lambda _: None, password_hash="!demo")
    with blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        restore_seed_data()  # a transactional test before the module may have emptied them
        reset_grid_index()
        for step in GEOGRAPHY:
            import_module(step).load(ctx)
        load(ctx, limit=limit)
        while do_refresh(actor=None, limit=1000):
            pass
        if then is not None:
            then(ctx)
        yield ctx
        transaction.set_rollback(True)
    reset_grid_index()
    limits.invalidate()  # the staged limits of the demo category are gone with the rollback
