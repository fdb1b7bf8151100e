"""The worker's deadline sweep: thresholds fire once, rules urge / supervise / escalate, paused clocks
wait, a failing clock cannot stall the sweep."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from civicgrid.cases import actions as a
from civicgrid.cases import sweep
from civicgrid.cases.models import Case, CaseClock, CaseEvent, EscalationHop, Stage, SupervisionOrder, Timing
from civicgrid.cases.workflow import Status
from civicgrid.core.worker import WorkerContext, registered_jobs
from civicgrid.lib.clock import frozen
from civicgrid.notifications.models import Notification
from tests.cases.helpers import build_catalog, new_case, unit
from tests.world import World

CST = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def run(now: datetime) -> int:
    total = 0
    while handled := sweep.sweep_due_clocks(WorkerContext(worker_id="test", now=now, batch=50)):
        total += handled
    return total


def codes(case: Case, after: int = 0) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case, seq__gt=after).order_by("seq").values_list("code", flat=True)
    )


def dispatched(world: World) -> Case:
    catalog = build_catalog()
    with frozen(at("2026-09-30 10:00")):
        case = new_case(world)
        a.do_register(case, category=catalog.road, actor=None)
        a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=None)
    return case


def test_the_sweep_is_a_registered_worker_job() -> None:
    assert registered_jobs()["cases.sweep"] is sweep.sweep_due_clocks


def test_accept_warning_then_overdue_urge_once_each(world: World) -> None:
    case = dispatched(world)
    version = Case.objects.get(pk=case.pk).version
    accept = CaseClock.objects.get(case=case, stage=Stage.ACCEPT)
    assert accept.warn_at == at("2026-10-08 05:12")  # 80 % of one working day from Sep 30 10:00

    assert run(at("2026-10-08 09:00")) == 1
    assert codes(case, version) == ["clock.warning", "urge"]
    assert run(at("2026-10-08 09:00")) == 0  # idempotent: nothing fires twice
    case.refresh_from_db()
    assert (case.urge_count, case.timing) == (1, Timing.WARNING)
    reminder = Notification.objects.get(kind="case.urged", recipient=world.u("tx_cg_handler"))
    assert case.number in reminder.subject

    assert run(at("2026-10-08 11:00")) == 1
    assert codes(case, version) == ["clock.warning", "urge", "clock.overdue", "urge"]
    case.refresh_from_db()
    assert (case.urge_count, case.timing, case.was_overdue) == (2, Timing.OVERDUE, True)
    assert run(at("2026-10-08 11:30")) == 0


def test_seriously_overdue_handling_is_supervised_and_escalated(world: World) -> None:
    case = dispatched(world)
    with frozen(at("2026-09-30 11:00")):
        a.do_accept(case, actor=None)
    version = Case.objects.get(pk=case.pk).version
    # Nothing ran for a month: every threshold is recorded, then each rule action once, in order.
    run(at("2026-10-30 12:00"))
    assert codes(case, version) == [
        "clock.warning",
        "clock.overdue",
        "clock.serious",
        "urge",
        "supervise",
        "escalate",
    ]
    case.refresh_from_db()
    assert (case.status, case.level, case.is_supervised) == (Status.REGISTERED, "city", True)
    hop = EscalationHop.objects.get(case=case)
    assert (hop.trigger, hop.from_level, hop.to_level) == ("timeout", "county", "city")
    assert SupervisionOrder.objects.filter(case=case, kind="supervise", trigger="timeout").count() == 1
    # At the city the dispatch clock runs; its own overdue rule only urges.
    assert case.clocks.filter(stage=Stage.DISPATCH, state="running").exists()


def test_paused_clocks_do_not_fire(world: World) -> None:
    case = dispatched(world)
    with frozen(at("2026-09-30 11:00")):
        a.do_accept(case, actor=None)
        a.do_await_resident(case, note="等待群众补充材料", actor=None)
    version = Case.objects.get(pk=case.pk).version
    assert run(at("2026-10-30 12:00")) == 0
    assert codes(case, version) == []


def test_thresholds_crossed_together_urge_once(world: World) -> None:
    case = dispatched(world)
    version = Case.objects.get(pk=case.pk).version
    run(at("2026-10-08 11:00"))  # the warning and the deadline both passed since the last look
    assert codes(case, version) == ["clock.warning", "clock.overdue", "urge"]


def test_a_failing_clock_is_retried_later(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    case = dispatched(world)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sweep, "_record", broken)
    now = at("2026-10-08 11:00")
    assert sweep.sweep_due_clocks(WorkerContext(worker_id="t", now=now, batch=10)) == 0
    accept = CaseClock.objects.get(case=case, stage=Stage.ACCEPT)
    assert accept.next_fire_at == datetime(2026, 10, 8, 12, 0, tzinfo=CST)  # an hour later, not a crash loop
    assert accept.timing == Timing.ON_TIME  # the failed firing left nothing behind
