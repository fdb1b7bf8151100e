"""The workcalendar app: its actions validate, and current_calendar() follows the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from civicgrid.lib.workcalendar import DayKind, TimeUnit
from civicgrid.workcalendar import actions
from civicgrid.workcalendar.calendar import _version, current_calendar, invalidate
from civicgrid.workcalendar.models import CalendarDay, OfficeHours

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def fresh_calendar() -> Iterator[None]:
    invalidate()
    yield
    invalidate()


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- Validation ------------------------------------------------------------------------------------------


def test_calendar_day_validation() -> None:
    with pytest.raises(ValidationError) as exc:
        actions.do_set_calendar_day(day=date(2026, 10, 12), kind=DayKind.MAKEUP_WORKDAY, actor=None)
    assert "must be a Saturday or a Sunday" in errors_of(exc)["kind"][0]
    with pytest.raises(ValidationError) as exc:
        actions.do_set_calendar_day(day=date(2026, 10, 12), kind=DayKind.WEEKEND, actor=None)
    assert "mark a closed weekday as a holiday" in errors_of(exc)["kind"][0]
    with pytest.raises(ValidationError) as exc:
        actions.do_set_calendar_day(day=date(2026, 10, 12), kind="holiday", actor=None)
    assert "is not a kind of day" in errors_of(exc)["kind"][0]
    with pytest.raises(ValidationError) as exc:
        actions.do_set_calendar_day(
            day=date(2026, 10, 12), kind=DayKind.PUBLIC_HOLIDAY, name="节" * 65, actor=None
        )
    assert "At most 64 characters" in errors_of(exc)["name"][0]
    assert not CalendarDay.objects.exists()

    row = actions.do_set_calendar_day(
        day=date(2026, 10, 17), kind=DayKind.MAKEUP_WORKDAY, name="国庆节", source="admin", actor=None
    )
    assert str(row) == "2026-10-17 make-up working day"
    # Setting the same date again replaces the row.
    again = actions.do_set_calendar_day(day=date(2026, 10, 17), kind=DayKind.WEEKEND, actor=None)
    assert again.pk == row.pk
    assert CalendarDay.objects.get().kind == DayKind.WEEKEND
    assert actions.do_delete_calendar_day(date(2026, 10, 17), actor=None)
    assert not actions.do_delete_calendar_day(date(2026, 10, 17), actor=None)


@pytest.mark.parametrize(
    ("times", "field", "reason"),
    [
        ((time(12), time(8), None, None), "morning_end", "The morning must end after it starts."),
        ((time(8), time(8), None, None), "morning_end", "The morning must end after it starts."),
        ((time(8), time(12), time(14), None), "afternoon_end", "or neither"),
        ((time(8), time(12), None, time(18)), "afternoon_start", "or neither"),
        ((time(8), time(12), time(18), time(14)), "afternoon_end", "The afternoon must end after it starts."),
        (
            (time(8), time(12), time(11), time(18)),
            "afternoon_start",
            "must not start before the morning ends",
        ),
    ],
)
def test_office_hours_validation(
    times: tuple[time, time, time | None, time | None], field: str, reason: str
) -> None:
    morning_start, morning_end, afternoon_start, afternoon_end = times
    with pytest.raises(ValidationError) as exc:
        actions.do_set_office_hours(
            valid_from=date(2026, 7, 1),
            morning_start=morning_start,
            morning_end=morning_end,
            afternoon_start=afternoon_start,
            afternoon_end=afternoon_end,
            actor=None,
        )
    assert list(errors_of(exc)) == [field]
    assert reason in errors_of(exc)[field][0]
    assert not OfficeHours.objects.exists()


# --- current_calendar() follows the tables -------------------------------------------------------------


def test_an_override_changes_the_calendar_at_once(
    django_assert_num_queries: Callable[[int], object],
) -> None:
    start = at(2026, 9, 30, 10)
    calendar = current_calendar()
    assert calendar.add(start, 5, TimeUnit.WORK_DAY) == at(2026, 10, 13, 10)
    with django_assert_num_queries(1):  # type: ignore[attr-defined]
        assert current_calendar() is calendar  # unchanged tables: the cached calendar, one query
    assert _version() == ("days", 0, None, "hours", 0, None)

    actions.do_set_calendar_day(
        day=date(2026, 10, 12), kind=DayKind.PUBLIC_HOLIDAY, name="台风停工", source="admin", actor=None
    )
    changed = current_calendar()
    assert changed is not calendar
    assert _version()[:2] == ("days", 1)
    assert changed.day_kind(date(2026, 10, 12)) == DayKind.PUBLIC_HOLIDAY
    assert changed.day_name(date(2026, 10, 12)) == "台风停工"
    assert changed.add(start, 5, TimeUnit.WORK_DAY) == at(2026, 10, 14, 10)

    actions.do_set_calendar_day(day=date(2026, 10, 11), kind=DayKind.MAKEUP_WORKDAY, actor=None)
    assert current_calendar().add(start, 5, TimeUnit.WORK_DAY) == at(2026, 10, 13, 10)

    actions.do_delete_calendar_day(date(2026, 10, 12), actor=None)
    actions.do_delete_calendar_day(date(2026, 10, 11), actor=None)
    assert current_calendar().day_kind(date(2026, 10, 12)) == DayKind.WORKDAY
    assert current_calendar().add(start, 5, TimeUnit.WORK_DAY) == at(2026, 10, 13, 10)


def test_office_hours_rows_change_work_hour_arithmetic() -> None:
    friday = at(2026, 6, 5, 16, 30)
    assert current_calendar().add(friday, 4, TimeUnit.WORK_HOUR) == at(2026, 6, 8, 10, 30)

    row = actions.do_set_office_hours(
        valid_from=date(2026, 6, 1),
        morning_start=time(9),
        morning_end=time(12),
        afternoon_start=time(13, 30),
        afternoon_end=time(17, 30),
        actor=None,
    )
    assert str(row) == "2026-06-01: 09:00–12:00, 13:30–17:30"
    # Friday 16:30–17:30 (1 h), Monday 09:00–12:00 (3 h).
    assert current_calendar().add(friday, 4, TimeUnit.WORK_HOUR) == at(2026, 6, 8, 12)
    # Before the row's valid_from the default hours still apply: Friday 29 May 16:30–18:00 (1.5 h), then
    # Monday 1 June under the new row, 09:00–11:30.
    assert current_calendar().add(at(2026, 5, 29, 16, 30), 4, TimeUnit.WORK_HOUR) == at(2026, 6, 1, 11, 30)

    # A single period from Monday 8 June: Friday (old row) 1 h, then Monday 08:00–11:00.
    actions.do_set_office_hours(
        valid_from=date(2026, 6, 8), morning_start=time(8), morning_end=time(16), actor=None
    )
    assert current_calendar().add(friday, 4, TimeUnit.WORK_HOUR) == at(2026, 6, 8, 11)
    assert current_calendar().add(at(2026, 6, 8, 15), 2, TimeUnit.WORK_HOUR) == at(2026, 6, 9, 9)

    assert actions.do_delete_office_hours(date(2026, 6, 8), actor=None)
    assert current_calendar().add(friday, 4, TimeUnit.WORK_HOUR) == at(2026, 6, 8, 12)


# --- The admin -------------------------------------------------------------------------------------------


def test_admin_is_for_superusers_and_saves_through_the_actions(
    client_for: Callable[[str], Client],
) -> None:
    root = client_for("root")
    assert root.get("/admin/workcalendar/calendarday/").status_code == 200
    assert root.get("/admin/workcalendar/officehours/").status_code == 200
    response = root.post(
        "/admin/workcalendar/calendarday/add/",
        {"date": "2026-10-12", "kind": "public_holiday", "name": "台风停工", "source": "admin"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert current_calendar().day_kind(date(2026, 10, 12)) == DayKind.PUBLIC_HOLIDAY
    # A make-up working day on a weekday is refused on the form, nothing is written.
    response = root.post(
        "/admin/workcalendar/calendarday/add/", {"date": "2026-10-13", "kind": "makeup_workday"}
    )
    assert response.status_code == 200
    assert not CalendarDay.objects.filter(date=date(2026, 10, 13)).exists()
    response = root.post(
        "/admin/workcalendar/officehours/add/",
        {"valid_from": "2026-07-01", "morning_start": "12:00", "morning_end": "08:00"},
    )
    assert response.status_code == 200
    assert not OfficeHours.objects.exists()

    # Administrators of a subtree do not edit the platform-wide calendar.
    admin_client = client_for("tx_admin")
    for url in ("/admin/workcalendar/calendarday/", "/admin/workcalendar/officehours/add/"):
        assert admin_client.get(url).status_code in (302, 403)
    assert "workcalendar" not in admin_client.get("/admin/").content.decode()
