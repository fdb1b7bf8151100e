"""The promised completion date on the working-day calendar (the real 2026 calendar: 国庆 10-01…10-07 off,
Saturday 10-10 worked; admin overrides win over the package)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pytest_django.fixtures import Settings

from civicgrid.lib.clock import frozen
from civicgrid.lib.workcalendar import WorkCalendar
from civicgrid.services.actions import do_register_visit, promised_deadline
from civicgrid.services.models import LimitUnit, Outcome
from civicgrid.workcalendar import calendar
from civicgrid.workcalendar.actions import do_set_calendar_day
from tests.services.helpers import PHONE, Window
from tests.world import World

CST = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def due_day(start: str, value: int, unit: str) -> date:
    end = promised_deadline(at(start), value, unit, CAL)
    assert (end.hour, end.minute, end.second) == (0, 0, 0), "the promise ends at a local midnight"
    return date.fromordinal(end.astimezone(CST).toordinal() - 1)


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        # Five working days across National Day: Oct 8, 9, 10 (make-up Saturday), 12, 13.
        ("2026-09-30 10:00", 5, LimitUnit.WORK_DAY, date(2026, 10, 13)),
        # Friday + 3 working days skips the weekend: Mon 8, Tue 9, Wed 10.
        ("2026-06-05 10:00", 3, LimitUnit.WORK_DAY, date(2026, 6, 10)),
        # Registered on a Saturday: counting starts on Monday, which is the first working day.
        ("2026-06-06 10:00", 1, LimitUnit.WORK_DAY, date(2026, 6, 8)),
        # The day of registration is not counted: Monday + 1 is Tuesday.
        ("2026-06-01 16:30", 1, LimitUnit.WORK_DAY, date(2026, 6, 2)),
        # Calendar days ending on a holiday move to the next working day (10-01 → 10-08).
        ("2026-09-21 10:00", 10, LimitUnit.NATURAL_DAY, date(2026, 10, 8)),
        # …and on a weekend to the Monday (06-13 is a Saturday).
        ("2026-06-03 10:00", 10, LimitUnit.NATURAL_DAY, date(2026, 6, 15)),
        ("2026-06-01 10:00", 10, LimitUnit.NATURAL_DAY, date(2026, 6, 11)),
        # 0: on the day of registration.
        ("2026-06-06 10:00", 0, LimitUnit.WORK_DAY, date(2026, 6, 6)),
    ],
)
def test_promised_day(start: str, value: int, unit: str, expected: date) -> None:
    assert due_day(start, value, unit) == expected


@pytest.fixture
def fresh_calendar() -> Iterator[None]:
    calendar.invalidate()
    yield
    calendar.invalidate()


def test_a_registered_visit_stores_its_promise_from_the_calendar_tables(
    window: Window, world: World, fresh_calendar: None, settings: Settings
) -> None:
    settings.CACHE_RECHECK_SECONDS = 0  # see the override at once
    item = window.item("MZ-001")  # 15 working days, promised
    required = window.required_ids("MZ-001")
    with frozen(at("2026-09-30 10:00")):
        visit = do_register_visit(
            item=item,
            service_center=window.centers["pzj"],
            applicant_name="张伟",
            applicant_phone=PHONE,
            received=required,
            outcome=Outcome.ACCEPTED,
            actor=world.u("pzj_window"),
        )
    # Oct 8, 9, 10, 12–16, 19–23, 26, 27 → the 15th working day is Oct 27.
    assert visit.promised_date == date(2026, 10, 27)
    assert visit.promised_due_at == at("2026-10-28 00:00")

    # An administrator declares Monday Oct 26 a holiday: a new visit's promise moves a day later.
    do_set_calendar_day(day=date(2026, 10, 26), kind="public_holiday", name="测试假日", actor=None)
    calendar.invalidate()
    with frozen(at("2026-09-30 10:00")):
        later = do_register_visit(
            item=item,
            service_center=window.centers["pzj"],
            applicant_name="张伟",
            applicant_phone=PHONE,
            received=required,
            outcome=Outcome.ACCEPTED,
            actor=world.u("pzj_window"),
        )
    assert later.promised_date == date(2026, 10, 28)
    visit.refresh_from_db()
    assert visit.promised_date == date(2026, 10, 27)  # stored: an earlier promise does not move
