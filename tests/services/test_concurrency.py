"""Two clerks at the same moment, on PostgreSQL with real connections: the visit row lock serializes two
steps on one visit (the second is refused and writes nothing), and the day's counter row gives two
simultaneous registrations distinct, consecutive numbers, even for the first visits of a day."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction  # noqa: F401 — connection: the skipif below

from civicgrid.lib.clock import frozen
from civicgrid.services import actions as a
from civicgrid.services.models import Outcome, VisitEvent, VisitStatus, WindowVisit
from tests.services.helpers import PHONE, Window, build_window
from tests.world import World

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="row locks between connections need PostgreSQL"
    ),
]
CST = ZoneInfo("Asia/Shanghai")


def in_thread(work: Callable[[], object], results: list[object]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(work())
        except Exception as exc:  # the outcome is what the test inspects
            results.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def test_the_second_clerk_waits_then_is_refused(world: World) -> None:
    window = build_window(world)
    visit = window.visits["pzj_accepted"]
    clerk = world.u("pzj_window")
    a_done, release = threading.Event(), threading.Event()
    results_a: list[object] = []
    results_b: list[object] = []

    def complete_and_hold() -> object:
        with transaction.atomic():
            done = a.do_complete_visit(WindowVisit.objects.get(pk=visit.pk), actor=clerk)
            a_done.set()
            release.wait(10)
        return done.status

    def complete_too() -> object:
        mine = WindowVisit.objects.get(pk=visit.pk)  # read while still registered
        a_done.wait(10)
        return a.do_complete_visit(mine, actor=clerk)

    ta, tb = in_thread(complete_and_hold, results_a), in_thread(complete_too, results_b)
    ta.start()
    tb.start()
    a_done.wait(10)
    tb.join(0.5)
    assert tb.is_alive(), "B must be waiting for A's row lock"
    release.set()
    ta.join(10)
    tb.join(10)

    assert results_a == [VisitStatus.DONE]
    assert len(results_b) == 1
    assert isinstance(results_b[0], ValidationError)
    assert list(VisitEvent.objects.filter(visit=visit).values_list("seq", "code")) == [
        (1, "register"),
        (2, "complete"),
    ]


def test_simultaneous_first_visits_of_a_day_get_consecutive_numbers(world: World) -> None:
    window: Window = build_window(world, visits=False)
    clerk = world.u("pzj_window")
    start = threading.Barrier(2)
    results: list[object] = []

    def register() -> object:
        start.wait(10)
        with frozen(datetime(2026, 5, 6, 9, 0, tzinfo=CST)):
            return a.do_register_visit(
                item=window.item("GA-001"),
                service_center=window.centers["pzj"],
                applicant_name="并发",
                applicant_phone=PHONE,
                received=window.required_ids("GA-001"),
                outcome=Outcome.ACCEPTED,
                actor=clerk,
            ).number

    threads = [in_thread(register, results), in_thread(register, results)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(str(r) for r in results) == ["W202605060001", "W202605060002"], results
