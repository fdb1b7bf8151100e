"""Deadlines on the real 2026 calendar (国务院办公厅 notice for 2026: 国庆 10-01…10-07 off, Saturday 10-10 worked;
office hours 08:00–12:00 / 14:00–18:00), with the default limits of migration cases/0002."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from civicgrid.cases import actions as a
from civicgrid.cases.clocks import remaining
from civicgrid.cases.models import Case, CaseClock, Stage, Timing
from civicgrid.lib.clock import frozen
from tests.cases.helpers import Catalog, build_catalog, new_case, unit
from tests.world import World

CST = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def clock(case: Case, stage: Stage, seq: int = 0) -> CaseClock:
    return CaseClock.objects.filter(case=case, stage=stage, seq=seq).order_by("-started_at").first()  # type: ignore[return-value]


def handling_case(world: World, catalog: Catalog, when: str, **fields: object) -> Case:
    with frozen(at(when)):
        case = new_case(world, **fields)  # type: ignore[arg-type]
        a.do_register(case, category=fields.pop("category", catalog.road), actor=None)  # type: ignore[arg-type]
        a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=None)
        a.do_accept(case, actor=None)
    return case


def test_five_working_days_across_national_day(world: World) -> None:
    catalog = build_catalog()
    case = handling_case(world, catalog, "2026-09-30 10:00")
    handle = clock(case, Stage.HANDLE)
    # Sep 30 is day 0; Oct 1–7 are the holiday; Oct 8, 9, 10 (make-up Saturday), 12, 13.
    assert handle.deadline_at == at("2026-10-13 10:00")
    assert handle.warn_at == at("2026-10-12 10:00")  # 80 %: four working days
    assert handle.serious_at == at("2026-10-27 10:00")  # 3 ×: fifteen working days
    case.refresh_from_db()
    assert case.due_at == at("2026-10-13 10:00")
    assert case.due_stage == Stage.HANDLE
    assert remaining(handle, at("2026-10-12 10:00")) == pytest.approx(1.0)
    assert remaining(handle, at("2026-10-14 10:00")) == pytest.approx(-1.0)


def test_accept_and_return_window(world: World) -> None:
    catalog = build_catalog()
    with frozen(at("2026-09-30 10:00")):
        case = new_case(world)
        a.do_register(case, category=catalog.road, actor=None)
        a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=None)
    assert clock(case, Stage.ACCEPT).deadline_at == at("2026-10-08 10:00")  # 1 working day
    assignment = case.assignments.get()
    assert assignment.return_due_at == at("2026-10-09 10:00")  # 2 working days
    with frozen(at("2026-10-09 11:00")), pytest.raises(ValidationError) as exc:
        a.do_request_return(case, reason="不属于本单位", actor=None)
    assert "passed" in str(exc.value)
    with frozen(at("2026-10-09 09:00")):
        a.do_request_return(case, reason="不属于本单位", actor=None)


def test_working_hours_reach_a_make_up_saturday(world: World) -> None:
    """The 2-working-hour registration limit from Friday 16:30 ends on the make-up Saturday 2026-10-10."""
    with frozen(at("2026-10-09 16:30")):
        case = new_case(world)
    assert clock(case, Stage.REGISTER).deadline_at == at("2026-10-10 08:30")
    with frozen(at("2026-10-16 16:30")):  # an ordinary Friday: Monday morning
        other = new_case(world)
    assert clock(other, Stage.REGISTER).deadline_at == at("2026-10-19 08:30")


def test_waiting_for_the_resident_pauses_the_clock(world: World) -> None:
    catalog = build_catalog()
    case = handling_case(world, catalog, "2026-09-30 10:00")
    with frozen(at("2026-10-09 10:00")):
        a.do_await_resident(case, note="请群众补充现场照片", actor=None)
    case.refresh_from_db()
    assert case.due_at is None  # nothing runs while waiting
    with frozen(at("2026-10-12 10:00")):
        a.do_resident_responded(case, actor=None)
    # Paused Fri 10:00 → Mon 10:00 = Friday's rest, the make-up Saturday, Monday's morning: 2 working days.
    handle = clock(case, Stage.HANDLE)
    assert handle.paused_amount == pytest.approx(2.0)
    assert handle.deadline_at == at("2026-10-15 10:00")


def test_extension_moves_the_deadline(world: World) -> None:
    catalog = build_catalog()
    case = handling_case(world, catalog, "2026-09-30 10:00")
    with frozen(at("2026-10-12 09:00")):
        request = a.do_request_extension(
            case, amount=3, reason="需协调管线单位", actor=world.u("tx_cg_handler")
        )
        with pytest.raises(ValidationError):  # one pending request at a time
            a.do_request_extension(case, amount=1, reason="再延", actor=None)
        a.do_decide_extension(
            case, request=request, approve=True, note="同意", actor=world.u("tx_supervisor")
        )
    assert clock(case, Stage.HANDLE).deadline_at == at("2026-10-16 10:00")
    case.refresh_from_db()
    assert case.extension_count == 1
    with frozen(at("2026-10-13 09:00")), pytest.raises(ValidationError) as exc:
        a.do_request_extension(case, amount=8, reason="再延8天", actor=None)  # 3 + 8 > the 10-day cap
    assert "at most 10" in str(exc.value)
    with frozen(at("2026-10-16 11:00")), pytest.raises(ValidationError):
        a.do_request_extension(case, amount=1, reason="已超期", actor=None)  # after the deadline


def test_urgent_hours_run_through_the_holiday(world: World) -> None:
    catalog = build_catalog()
    case = handling_case(world, catalog, "2026-10-01 23:00", urgency="critical")
    assert clock(case, Stage.HANDLE).deadline_at == at("2026-10-02 01:00")
    assert clock(case, Stage.HANDLE).unit == "urgent_hour"


def test_staged_limits(world: World) -> None:
    catalog = build_catalog()
    case = handling_case(world, catalog, "2026-09-30 16:00", category=catalog.illegal)
    stages = {
        k.seq: (k.label, k.deadline_at) for k in CaseClock.objects.filter(case=case, stage=Stage.HANDLE)
    }
    assert stages == {
        0: ("停工", at("2026-10-08 10:00")),  # 4 working hours: Wed 16–18, Thu after the holiday 08–10
        1: ("处罚", at("2026-10-15 16:00")),  # 7 working days
        2: ("拆除", at("2026-11-03 16:00")),  # 20 working days (Oct 8, 9, 10, 12 … Nov 2, 3)
    }
    with frozen(at("2026-10-08 09:00")):
        a.do_complete_milestone(case, seq=0, note="已责令停工", actor=None)
    case.refresh_from_db()
    assert case.due_at == at("2026-10-15 16:00")  # the next stage is now the first to end
    late = clock(case, Stage.HANDLE, 0)
    assert late.state == "stopped"
    assert late.timing == Timing.ON_TIME


def test_a_late_reply_is_recorded_overdue(world: World) -> None:
    catalog = build_catalog()
    case = handling_case(world, catalog, "2026-09-30 10:00")
    with frozen(at("2026-10-14 10:00")):
        a.do_reply(case, reply="已处理", actor=None)
    handle = clock(case, Stage.HANDLE)
    assert handle.state == "stopped"
    assert handle.timing == Timing.OVERDUE
    case.refresh_from_db()
    assert case.was_overdue
    assert clock(case, Stage.VERIFY).deadline_at == at("2026-10-15 10:00")
