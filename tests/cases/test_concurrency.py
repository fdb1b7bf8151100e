"""Two people act on the same case at the same moment, on PostgreSQL with real connections: one wins, the
other is told (CaseConflict) and changes nothing; the event history stays gap-free and consistent."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from civicgrid.cases import actions as a
from civicgrid.cases.actions import CaseConflict
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.workflow import Status
from tests.cases.helpers import build_catalog, new_case, unit
from tests.world import World

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="row locks between connections need PostgreSQL"
    ),
]


def dispatched(world: World) -> Case:
    catalog = build_catalog()
    case = new_case(world)
    a.do_register(case, category=catalog.road, actor=None)
    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=None)
    return case


def in_thread(work: Callable[[], object], results: list[object]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(work())
        except Exception as exc:  # the outcome is what the test inspects
            results.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def test_the_second_writer_waits_then_is_told(world: World) -> None:
    """A signs for the case and holds its transaction open; B, who read the same version, asks to return
    it. B blocks on the row lock, then sees the version moved and gets CaseConflict."""
    case = dispatched(world)
    handler = world.u("tx_cg_handler")
    a_done, release = threading.Event(), threading.Event()
    results_a: list[object] = []
    results_b: list[object] = []

    def accept_and_hold() -> object:
        mine = Case.objects.get(pk=case.pk)
        with transaction.atomic():
            a.do_accept(mine, actor=handler)
            a_done.set()
            release.wait(10)
        return mine.status

    def request_return() -> object:
        mine = Case.objects.get(pk=case.pk)  # read before A commits: version 3
        a_done.wait(10)
        return a.do_request_return(mine, reason="不属于本单位", actor=handler)

    ta, tb = in_thread(accept_and_hold, results_a), in_thread(request_return, results_b)
    ta.start()
    tb.start()
    a_done.wait(10)
    tb.join(0.5)
    assert tb.is_alive(), "B must be waiting for A's row lock"
    release.set()
    ta.join(10)
    tb.join(10)

    assert results_a == [Status.HANDLING]
    assert len(results_b) == 1
    assert isinstance(results_b[0], CaseConflict)
    assert "已被他人修改" in str(results_b[0])  # the conflict message, in the default language
    final = Case.objects.get(pk=case.pk)
    assert (final.status, final.version) == (Status.HANDLING, 4)
    history = list(
        CaseEvent.objects.filter(case=final).order_by("seq").values_list("seq", "code", "from_status")
    )
    assert history == [
        (1, "create", ""),
        (2, "register", "received"),
        (3, "dispatch", "registered"),
        (4, "accept", "dispatched"),
    ]


def test_a_race_of_many_has_one_winner(world: World) -> None:
    """Eight desks dispatch the same registered case at once: exactly one dispatch happens."""
    catalog = build_catalog()
    case = new_case(world)
    a.do_register(case, category=catalog.road, actor=None)
    start = threading.Barrier(8)
    results: list[object] = []

    def dispatch() -> object:
        mine = Case.objects.get(pk=case.pk)
        start.wait(10)
        return a.do_dispatch(mine, lead=unit(world, "430103-cg"), actor=world.u("tx_dispatcher")).status

    threads = [in_thread(dispatch, results) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wins = [r for r in results if r == Status.DISPATCHED]
    conflicts = [r for r in results if isinstance(r, CaseConflict)]
    assert (len(wins), len(conflicts)) == (1, 7), results
    final = Case.objects.get(pk=case.pk)
    assert final.version == 3
    assert final.assignments.count() == 1
    assert list(CaseEvent.objects.filter(case=final).values_list("seq", flat=True).order_by("seq")) == [
        1,
        2,
        3,
    ]
    assert connection.vendor == "postgresql"
