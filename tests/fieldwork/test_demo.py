"""The field demo step on the demo geography and a small slice of the case history: about forty visits of
the last month in the persona community, six events reported by bjt_grid1 with two replies waiting for
verification, and a second run that adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Count

from civicgrid.accounts.models import User
from civicgrid.cases import limits
from civicgrid.cases.models import Case
from civicgrid.demo.context import DemoContext
from civicgrid.fieldwork import demo
from civicgrid.fieldwork.models import HouseholdVisit
from civicgrid.fieldwork.queries import my_cells, my_tasks, open_cases
from civicgrid.grids.demo import PERSONA_COMMUNITY, PERSONA_WORKER
from civicgrid.grids.lookup import reset_grid_index
from civicgrid.lib import clock
from civicgrid.notifications.models import Notification
from tests.conftest import restore_seed_data


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[list[str]]:
    said: list[str] = []
    ctx = DemoContext(data_dir=settings.SHARED_DATA_DIR, say=said.append, password_hash="!demo")
    with django_db_blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        restore_seed_data()  # a transactional test before this module may have emptied them
        reset_grid_index()
        for step in ("civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo"):
            import_module(step).load(ctx)
        import_module("civicgrid.cases.demo").load(ctx, limit=30)  # the categories, units and staff
        before = Notification.objects.count()
        demo.load(ctx)
        said.append(f"notifications: {Notification.objects.count() - before}")
        counts = (HouseholdVisit.objects.count(), Case.objects.count())
        demo.load(ctx)
        said.append(
            f"second run added: {HouseholdVisit.objects.count() - counts[0]}, {Case.objects.count() - counts[1]}"
        )
        yield said
        transaction.set_rollback(True)
    reset_grid_index()
    limits.invalidate()


def test_about_forty_visits_in_the_last_month_by_the_cells_workers(loaded: list[str], db: None) -> None:
    visits = HouseholdVisit.objects.select_related("grid_cell", "by")
    assert 36 <= visits.count() <= 44
    since = clock.now() - timedelta(days=31)
    for visit in visits:
        assert since <= visit.visited_at <= clock.now()
        assert visit.grid_cell.community.code == PERSONA_COMMUNITY
        assert visit.by is not None
        assert visit.grid_cell.workers.filter(pk=visit.by.pk).exists(), visit
        assert visit.building is None or visit.building.grid_cell_id == visit.grid_cell_id
    by_purpose = dict(visits.values_list("purpose").annotate(n=Count("pk")))
    assert len(by_purpose) == 6  # every purpose occurs
    assert visits.filter(by__username=PERSONA_WORKER).count() == demo.PERSONA_VISITS


def test_the_persona_has_open_cases_and_replies_to_verify(loaded: list[str], db: None) -> None:
    worker = User.objects.get(username=PERSONA_WORKER)
    cell = my_cells(worker).get()
    events = Case.objects.filter(intake_key__startswith="demo:field:")
    assert events.count() == len(demo.EVENTS)
    assert set(events.values_list("channel", "kind", "created_by")) == {("grid", "event", worker.pk)}
    # Open: received, registered, handling and the two replies (resolved is done).
    assert open_cases(worker, cell).filter(intake_key__startswith="demo:field:").count() == 5
    assert sorted(t.case.intake_key or "" for t in my_tasks(worker)) == ["demo:field:1", "demo:field:2"]
    assert HouseholdVisit.objects.filter(created_case__intake_key="demo:field:2").count() == 1


def test_nobody_is_told_and_a_second_run_adds_nothing(loaded: list[str], db: None) -> None:
    assert "notifications: 0" in loaded
    assert "second run added: 0, 0" in loaded
