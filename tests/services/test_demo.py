"""The window's demo step on the demo district: the catalogue, every street centre's details, thirty visits
of the last two months in every status, walked by the centres' clerks; a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module
from itertools import pairwise

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicgrid.demo.context import DemoContext
from civicgrid.grids.lookup import reset_grid_index
from civicgrid.services import demo
from civicgrid.services.models import (
    Outcome,
    ServiceCenterProfile,
    ServiceItem,
    VisitEvent,
    VisitStatus,
    WindowVisit,
)
from civicgrid.workcalendar.calendar import current_calendar
from tests.conftest import restore_seed_data


@pytest.fixture(scope="module")
def loaded(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[list[tuple[int, int, int]]]:
    ctx = DemoContext(data_dir=settings.SHARED_DATA_DIR, say=lambda _: None, password_hash="!demo")
    counts: list[tuple[int, int, int]] = []
    with django_db_blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        restore_seed_data()  # a transactional test before this module may have emptied them
        reset_grid_index()
        for step in ("civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo"):
            import_module(step).load(ctx)
        for _ in range(2):
            demo.load(ctx)
            counts.append(
                (
                    ServiceItem.objects.count(),
                    ServiceCenterProfile.objects.count(),
                    WindowVisit.objects.count(),
                )
            )
        yield counts
        transaction.set_rollback(True)
    reset_grid_index()


def test_it_loads_once(loaded: list[tuple[int, int, int]], db: None) -> None:
    first, second = loaded
    assert first == (len(demo.ITEMS), 14, demo.VISITS)  # 天心区 has 14 streets, each with a centre
    assert second == first
    assert 15 <= len(demo.ITEMS) <= 25
    assert all(item.materials.exists() for item in ServiceItem.objects.all())


def test_the_visits_look_like_two_months_of_work(loaded: list[tuple[int, int, int]], db: None) -> None:
    visits = list(WindowVisit.objects.select_related("service_center"))
    now = timezone.now()
    cal = current_calendar()
    assert all(now - timedelta(days=demo.DAYS_BACK + 7) <= v.registered_at <= now for v in visits)
    assert all(cal.is_working_day(timezone.localdate(v.registered_at)) for v in visits)
    assert {v.outcome for v in visits} == set(Outcome.values)
    statuses = {v.status for v in visits}
    assert {VisitStatus.COLLECTED, VisitStatus.CLOSED} <= statuses
    assert statuses & {VisitStatus.REGISTERED, VisitStatus.IN_PROGRESS}, "some promises are still running"
    persona_centre = [v for v in visits if v.service_center.code == demo.PERSONA_CENTER]
    assert len(persona_centre) > len(visits) / 2
    assert {v.registered_by.username for v in persona_centre if v.registered_by} == {"pzj_window"}
    for visit in visits:  # histories are gap-free and in time order
        events = list(VisitEvent.objects.filter(visit=visit).order_by("seq"))
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert all(a.at <= b.at for a, b in pairwise(events))
        assert events[-1].to_status == visit.status
