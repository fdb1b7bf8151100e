"""The demo case history on a slice of 150 messages over the demo district: every state and every kind
of life occurs, histories are gap-free and in time order, nobody is notified about the past, the real
replies are kept, and a second run adds nothing.

The demo geography (jurisdictions, personas, grid cells) is loaded once for the module inside an outer
transaction that is rolled back afterwards, like ``shared_world`` in conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from itertools import pairwise

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from civicgrid.cases import limits
from civicgrid.cases.demo import KEY_PREFIX, load
from civicgrid.cases.demo_sources import read_messages
from civicgrid.cases.models import (
    Case,
    CaseEvent,
    EscalationHop,
    ExtensionRequest,
    Revisit,
    Satisfaction,
    SupervisionOrder,
)
from civicgrid.cases.workflow import Status
from civicgrid.demo.context import DemoContext
from civicgrid.grids.lookup import reset_grid_index
from civicgrid.notifications.models import Notification
from tests.conftest import restore_seed_data

SLICE = 150


@dataclass
class Loaded:
    said: list[str] = field(default_factory=list)
    counts_first: tuple[int, int] = (0, 0)
    counts_second: tuple[int, int] = (0, 0)


def _counts() -> tuple[int, int]:
    return Case.objects.count(), CaseEvent.objects.count()


@pytest.fixture(scope="module")
def history(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[Loaded]:
    loaded = Loaded()
    ctx = DemoContext(data_dir=settings.SHARED_DATA_DIR, say=loaded.said.append, password_hash="!demo")
    with django_db_blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        restore_seed_data()  # a transactional test before this module may have emptied them
        reset_grid_index()
        for step in ("civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo"):
            import_module(step).load(ctx)
        load(ctx, limit=SLICE)
        loaded.counts_first = _counts()
        load(ctx, limit=SLICE)
        loaded.counts_second = _counts()
        yield loaded
        transaction.set_rollback(True)
    reset_grid_index()
    limits.invalidate()  # the staged limits of the demo category are gone with the rollback


def _demo() -> Q:
    return Q(intake_key__startswith=KEY_PREFIX) | Q(parent__intake_key__startswith=KEY_PREFIX)


def test_every_state_occurs(history: Loaded, db: None) -> None:
    found = set(Case.objects.filter(_demo()).values_list("status", flat=True))
    assert found == set(Status.values), set(Status.values) - found


def test_every_kind_of_life_has_examples(history: Loaded, db: None) -> None:
    cases = Case.objects.filter(_demo())
    assert cases.filter(return_count__gt=0).exists()
    assert cases.filter(owner_ruled=True).exists()  # a return refused by a ruling
    assert cases.filter(rework_count__gt=0).exists()
    assert cases.filter(reopen_count__gt=0).exists()
    assert cases.filter(extension_count__gt=0).exists()
    assert ExtensionRequest.objects.filter(case__in=cases, status="rejected").exists()
    assert Revisit.objects.filter(case__in=cases, satisfaction=Satisfaction.UNSATISFIED).exists()
    assert cases.filter(was_overdue=True).exists()
    assert cases.filter(was_overdue=False, status=Status.ARCHIVED).exists()
    assert SupervisionOrder.objects.filter(case__in=cases, kind="urge").exists()
    assert cases.filter(duplicate_of__isnull=False, status=Status.MERGED).exists()
    assert cases.filter(parent__isnull=False).count() >= 2  # the parts of a split case
    # Escalations: manual hops up the ladder, some across several levels, up to the city.
    hops = EscalationHop.objects.filter(case__in=cases)
    assert hops.filter(direction=1, trigger="manual").exists()
    assert hops.filter(to_level="city").exists()
    most = hops.filter(direction=1).values("case").annotate(n=Count("id")).aggregate(m=Max("n"))["m"]
    assert most is not None
    assert most >= 2
    assert cases.filter(channel="hotline").count() > cases.filter(channel="web").count() > 0


def test_histories_are_gap_free_and_in_time_order(history: Loaded, db: None) -> None:
    now = timezone.now()
    by_case: dict[int, list[CaseEvent]] = {}
    for event in CaseEvent.objects.filter(case__in=Case.objects.filter(_demo())).order_by("case_id", "seq"):
        by_case.setdefault(event.case_id, []).append(event)
    versions = dict(Case.objects.filter(_demo()).values_list("pk", "version"))
    assert set(by_case) == set(versions)
    for case_id, events in by_case.items():
        assert [e.seq for e in events] == list(range(1, versions[case_id] + 1)), case_id
        for previous, event in pairwise(events):
            assert event.from_status == previous.to_status, (case_id, event.seq)
            assert event.at >= previous.at, (case_id, event.seq)
        assert events[-1].at <= now


def test_the_past_stays_quiet_and_within_two_years(history: Loaded, db: None) -> None:
    assert not Notification.objects.exists()
    today = timezone.localdate()
    first = Case.objects.filter(_demo()).order_by("received_at").values_list("received_at", flat=True)[0]
    last = Case.objects.filter(intake_key__startswith=KEY_PREFIX).order_by("-received_at")[0].received_at
    assert timezone.localdate(first) >= today - timedelta(days=730)
    assert timezone.localdate(last) <= today - timedelta(days=1)


def test_the_real_texts_and_replies_are_kept(history: Loaded, db: None) -> None:
    messages = {m.key: m for m in read_messages(settings.SHARED_DATA_DIR / "messages")}
    replied = Case.objects.filter(intake_key__startswith=f"{KEY_PREFIX}replies:", status=Status.ARCHIVED)
    checked = 0
    for case in replied.filter(rework_count=0, reopen_count=0)[:20]:
        message = messages[(case.intake_key or "").removeprefix(KEY_PREFIX)]
        assert (case.title, case.description, case.reply) == (message.title, message.body, message.reply)
        assert case.category is not None
        assert case.category.depth == 3
        checked += 1
    assert checked


def test_a_second_run_adds_nothing(history: Loaded, db: None) -> None:
    assert history.counts_first[0] >= SLICE
    assert history.counts_second == history.counts_first
    assert any("0 to add" in line for line in history.said)
