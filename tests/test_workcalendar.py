"""The working calendar and time-limit arithmetic (civicgrid.lib.workcalendar); no database."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
import pytest

from civicgrid.lib import workcalendar as wc
from civicgrid.lib.workcalendar import DayKind, OfficeHours, TimeUnit, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
ALL_UNITS = list(TimeUnit)
ONE_US = timedelta(microseconds=1)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


# --- Day kinds -------------------------------------------------------------------------------------------


def test_2026_national_day_matches_the_state_council_notice() -> None:
    # 国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
    # 中秋节：9月25日（周五）至27日（周日）放假。
    for day in range(1, 8):
        assert CAL.day_kind(date(2026, 10, day)) == DayKind.PUBLIC_HOLIDAY
        assert CAL.day_name(date(2026, 10, day)) == "国庆节"
    for day in (25, 26, 27):
        assert CAL.day_kind(date(2026, 9, day)) == DayKind.PUBLIC_HOLIDAY
    assert CAL.day_kind(date(2026, 9, 20)) == DayKind.MAKEUP_WORKDAY
    assert CAL.day_kind(date(2026, 10, 10)) == DayKind.MAKEUP_WORKDAY
    assert CAL.day_kind(date(2026, 10, 11)) == DayKind.WEEKEND
    assert CAL.day_kind(date(2026, 9, 30)) == DayKind.WORKDAY
    assert CAL.day_name(date(2026, 9, 30)) == ""
    assert CAL.is_working_day(date(2026, 10, 10))
    assert not CAL.is_working_day(date(2026, 10, 1))


def test_2026_spring_festival_and_its_makeup_days() -> None:
    # 春节：2月15日至23日放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
    for day in range(15, 24):
        assert CAL.day_kind(date(2026, 2, day)) == DayKind.PUBLIC_HOLIDAY
    assert CAL.day_kind(date(2026, 2, 14)) == DayKind.MAKEUP_WORKDAY
    assert CAL.day_kind(date(2026, 2, 28)) == DayKind.MAKEUP_WORKDAY
    assert CAL.day_name(date(2026, 2, 14)) == "春节"
    # Friday 09:00: the rest of Friday, the make-up Saturday, then Tuesday 24th and Wednesday 25th.
    assert CAL.add(at(2026, 2, 13, 9), 3, TimeUnit.WORK_DAY) == at(2026, 2, 25, 9)
    # 8 office hours from Friday 14:00: Friday 14:00–18:00, then the make-up Saturday 08:00–12:00.
    assert CAL.add(at(2026, 2, 13, 14), 8, TimeUnit.WORK_HOUR) == at(2026, 2, 14, 12)


def test_year_not_covered_by_the_package_falls_back_to_weekdays() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.get_holiday_detail(date(2030, 10, 1))
    assert CAL.day_kind(date(2030, 10, 1)) == DayKind.WORKDAY  # a Tuesday: no holiday data for 2030
    assert CAL.day_kind(date(2030, 10, 5)) == DayKind.WEEKEND
    assert CAL.day_name(date(2030, 10, 1)) == ""
    # Friday 2030-10-04 10:00 + 1 work_day → Monday 10:00; also across the end of the package's data.
    assert CAL.add(at(2030, 10, 4, 10), 1, TimeUnit.WORK_DAY) == at(2030, 10, 7, 10)
    assert CAL.add(at(2026, 12, 31, 10), 1, TimeUnit.WORK_DAY) == at(2027, 1, 1, 10)


def test_overrides_beat_the_package() -> None:
    cal = WorkCalendar(
        {date(2026, 10, 5): DayKind.WORKDAY, date(2026, 10, 12): DayKind.PUBLIC_HOLIDAY},
        names={date(2026, 10, 12): "台风停工"},
    )
    assert cal.day_kind(date(2026, 10, 5)) == DayKind.WORKDAY
    assert cal.day_name(date(2026, 10, 5)) == ""  # an override without a name has none
    assert cal.day_kind(date(2026, 10, 12)) == DayKind.PUBLIC_HOLIDAY
    assert cal.day_name(date(2026, 10, 12)) == "台风停工"
    # Sep 30 is day 0, then Oct 5 (override), 8, 9, 10 and — Oct 12 now closed — Oct 13.
    assert cal.add(at(2026, 9, 30, 10), 5, TimeUnit.WORK_DAY) == at(2026, 10, 13, 10)
    assert cal.add(at(2026, 9, 30, 10), 4, TimeUnit.WORK_DAY) == at(2026, 10, 10, 10)
    assert CAL.add(at(2026, 9, 30, 10), 4, TimeUnit.WORK_DAY) == at(2026, 10, 12, 10)


def test_package_is_asked_once_per_date(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[date] = []
    real = chinese_calendar.get_holiday_detail

    def counting(d: date) -> tuple[bool, str | None]:
        calls.append(d)
        result: tuple[bool, str | None] = real(d)
        return result

    monkeypatch.setattr(wc, "_package_days", {})
    monkeypatch.setattr(chinese_calendar, "get_holiday_detail", counting)
    cal = WorkCalendar()
    for _ in range(3):
        cal.add(at(2026, 9, 30, 10), 5, TimeUnit.WORK_DAY)
        cal.day_kind(date(2026, 10, 1))
        WorkCalendar().day_name(date(2026, 10, 1))
    assert len(calls) == len(set(calls))


# --- Arithmetic ------------------------------------------------------------------------------------------


def test_five_work_days_across_the_2026_national_day() -> None:
    start = at(2026, 9, 30, 10)
    # Sep 30 is day 0; Oct 8, 9, 10 (make-up Saturday), 12, 13.
    deadline = CAL.add(start, 5, TimeUnit.WORK_DAY)
    assert deadline == at(2026, 10, 13, 10)
    assert deadline.tzinfo == SH
    assert CAL.elapsed(start, deadline, TimeUnit.WORK_DAY) == 5
    # The same instant given in UTC gives the same deadline, in Asia/Shanghai.
    assert CAL.add(start.astimezone(UTC), 5, TimeUnit.WORK_DAY) == deadline
    assert CAL.add(start.astimezone(UTC), 5, "work_day").utcoffset() == timedelta(hours=8)


def test_worked_example_four_work_hours_from_friday_afternoon() -> None:
    friday = at(2026, 6, 5, 16, 30)
    assert friday.weekday() == 4
    # Friday 16:30–18:00 (1.5 h), Monday 08:00–10:30 (2.5 h).
    assert CAL.add(friday, 4, TimeUnit.WORK_HOUR) == at(2026, 6, 8, 10, 30)
    saturday_worked = WorkCalendar({date(2026, 6, 6): DayKind.MAKEUP_WORKDAY})
    assert saturday_worked.add(friday, 4, TimeUnit.WORK_HOUR) == at(2026, 6, 6, 10, 30)


def test_work_day_started_on_a_holiday_counts_from_the_next_working_day() -> None:
    holiday = at(2026, 10, 3, 15)
    assert CAL.elapsed(holiday, at(2026, 10, 8), TimeUnit.WORK_DAY) == 0
    assert CAL.add(holiday, 1, TimeUnit.WORK_DAY) == at(2026, 10, 9)  # the end of Oct 8
    assert CAL.add(holiday, 2.5, TimeUnit.WORK_DAY) == at(2026, 10, 10, 12)
    # A weekend start behaves the same way.
    assert CAL.add(at(2026, 6, 6, 9), 1, TimeUnit.WORK_DAY) == at(2026, 6, 9)


def test_work_hour_outside_office_hours() -> None:
    # At night: begins at the next opening.
    assert CAL.add(at(2026, 6, 9, 22), 2, TimeUnit.WORK_HOUR) == at(2026, 6, 10, 10)
    assert CAL.add(at(2026, 6, 10, 3), 2, TimeUnit.WORK_HOUR) == at(2026, 6, 10, 10)
    # During the lunch break: begins at 14:00.
    assert CAL.add(at(2026, 6, 10, 12, 30), 1, TimeUnit.WORK_HOUR) == at(2026, 6, 10, 15)
    # Used up exactly at a closing: ends at the closing, not at the next opening.
    assert CAL.add(at(2026, 6, 10, 8), 4, TimeUnit.WORK_HOUR) == at(2026, 6, 10, 12)
    assert CAL.add(at(2026, 6, 10, 8), 8, TimeUnit.WORK_HOUR) == at(2026, 6, 10, 18)
    assert CAL.elapsed(at(2026, 6, 9, 18), at(2026, 6, 10, 8), TimeUnit.WORK_HOUR) == 0
    # Over a statutory holiday: Sep 30 16:00–18:00, then Oct 8.
    assert CAL.add(at(2026, 9, 30, 16), 3, TimeUnit.WORK_HOUR) == at(2026, 10, 8, 9)


def test_natural_day_and_urgent_hour_ignore_holidays() -> None:
    start = at(2026, 9, 30, 10)
    assert CAL.add(start, 5, TimeUnit.NATURAL_DAY) == at(2026, 10, 5, 10)
    assert CAL.add(start, 30, TimeUnit.URGENT_HOUR) == at(2026, 10, 1, 16)
    assert CAL.elapsed(start, at(2026, 10, 8, 10), TimeUnit.NATURAL_DAY) == 8
    assert CAL.elapsed(start, at(2026, 10, 1, 10), TimeUnit.URGENT_HOUR) == 24


def test_fractional_amounts_give_the_warning_instant() -> None:
    start = at(2026, 9, 30, 10)
    # 80 % of 5 work_days = 96 h of working-day time: 14 h + Oct 8, 9, 10 + 10 h of Oct 12.
    assert CAL.add(start, 0.8 * 5, TimeUnit.WORK_DAY) == at(2026, 10, 12, 10)
    assert CAL.add(start, Decimal("0.8") * 5, TimeUnit.WORK_DAY) == at(2026, 10, 12, 10)
    assert CAL.add(start, 0.5, TimeUnit.WORK_DAY) == at(2026, 9, 30, 22)
    # 80 % of 4 work_hours from Friday 16:30 = 3 h 12 min: 1.5 h on Friday, 1 h 42 min on Monday.
    assert CAL.add(at(2026, 6, 5, 16, 30), 0.8 * 4, TimeUnit.WORK_HOUR) == at(2026, 6, 8, 9, 42)
    assert CAL.add(start, 0, TimeUnit.WORK_DAY) == start


def test_push_for_a_pause_over_a_weekend() -> None:
    deadline = at(2026, 6, 10, 10)  # Wednesday
    paused_from, paused_to = at(2026, 6, 5, 17), at(2026, 6, 8, 9)  # Friday 17:00 → Monday 09:00
    # work_hour: Friday 17:00–18:00 and Monday 08:00–09:00 count, so 2 office hours.
    assert CAL.push(deadline, paused_from, paused_to, TimeUnit.WORK_HOUR) == at(2026, 6, 10, 12)
    # work_day: 7 h of Friday + 9 h of Monday = 16 h of working-day time.
    assert CAL.push(deadline, paused_from, paused_to, TimeUnit.WORK_DAY) == at(2026, 6, 11, 2)
    # natural_day: the whole 64 h.
    assert CAL.push(deadline, paused_from, paused_to, TimeUnit.NATURAL_DAY) == at(2026, 6, 13, 2)
    # A pause entirely inside the weekend does not move a working-time deadline.
    weekend = (at(2026, 6, 6, 9), at(2026, 6, 7, 18))
    assert CAL.push(deadline, *weekend, TimeUnit.WORK_DAY) == deadline
    assert CAL.push(deadline, *weekend, TimeUnit.URGENT_HOUR) == deadline + timedelta(hours=33)
    # A pause that ends before it starts moves nothing.
    assert CAL.push(deadline, paused_to, paused_from, TimeUnit.WORK_HOUR) == deadline


def test_office_hours_change_on_their_valid_from_date() -> None:
    summer = ((time(8), time(12)), (time(15), time(18, 30)))
    cal = WorkCalendar(office_hours=[OfficeHours(date(2026, 7, 1), summer), OfficeHours(date(2026, 10, 1))])
    assert cal.office_hours_on(date(2026, 6, 30)) == wc.DEFAULT_PERIODS  # no earlier row: the default
    assert cal.office_hours_on(date(2026, 7, 1)) == summer
    assert cal.office_hours_on(date(2026, 9, 30)) == summer
    assert cal.office_hours_on(date(2026, 10, 1)) == wc.DEFAULT_PERIODS
    # Tuesday Jun 30 16:30–18:00 (old hours), then Wednesday Jul 1 08:00–10:30 (new hours).
    assert cal.add(at(2026, 6, 30, 16, 30), 4, TimeUnit.WORK_HOUR) == at(2026, 7, 1, 10, 30)
    # Jul 1 10:00–12:00, then 15:00–17:00 under the summer hours (16:00 under the default).
    assert cal.add(at(2026, 7, 1, 10), 4, TimeUnit.WORK_HOUR) == at(2026, 7, 1, 17)
    assert CAL.add(at(2026, 7, 1, 10), 4, TimeUnit.WORK_HOUR) == at(2026, 7, 1, 16)
    assert cal.elapsed(at(2026, 7, 1), at(2026, 7, 2), TimeUnit.WORK_HOUR) == 7.5


def test_bad_input_is_rejected() -> None:
    naive = datetime(2026, 9, 30, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add(naive, 1, TimeUnit.WORK_DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.elapsed(at(2026, 9, 30), naive, TimeUnit.WORK_HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.push(at(2026, 9, 30), naive, at(2026, 10, 1), TimeUnit.URGENT_HOUR)
    with pytest.raises(ValueError, match="negative"):
        CAL.add(at(2026, 9, 30), -1, TimeUnit.WORK_DAY)
    with pytest.raises(ValueError, match="finite"):
        CAL.add(at(2026, 9, 30), float("nan"), TimeUnit.WORK_DAY)
    with pytest.raises(ValueError, match="end after it starts"):
        OfficeHours(date(2026, 1, 1), ((time(12), time(8)),))
    with pytest.raises(ValueError, match="overlap"):
        OfficeHours(date(2026, 1, 1), ((time(8), time(12)), (time(11), time(18))))
    with pytest.raises(ValueError, match="at least one"):
        OfficeHours(date(2026, 1, 1), ())
    with pytest.raises(ValueError, match="two office-hours rows"):
        WorkCalendar(office_hours=[OfficeHours(date(2026, 1, 1)), OfficeHours(date(2026, 1, 1))])
    with pytest.raises(ValueError, match="not a valid TimeUnit"):
        CAL.add(at(2026, 9, 30), 1, "fortnight")


def test_no_working_time_at_all_is_an_error_not_a_hang() -> None:
    closed = WorkCalendar(
        {date(2026, 1, 1) + timedelta(days=i): DayKind.PUBLIC_HOLIDAY for i in range(366 * 12)}
    )
    with pytest.raises(ValueError, match="no work_day time"):
        closed.add(at(2026, 1, 1), 1, TimeUnit.WORK_DAY)


# --- Properties over random instants ---------------------------------------------------------------------


def random_instant(rng: random.Random) -> datetime:
    day = date(2025, 12, 1) + timedelta(days=rng.randrange(420))
    return datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), tzinfo=SH)


@pytest.mark.parametrize("unit", ALL_UNITS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_add_and_elapsed_round_trip(unit: TimeUnit, seed: int) -> None:
    rng = random.Random(seed)
    cal = WorkCalendar({date(2026, 5, 16): DayKind.MAKEUP_WORKDAY})
    tolerance = 2 / wc._UNIT_US[unit]  # two microseconds, in units
    for _ in range(200):
        start = random_instant(rng)
        x = rng.uniform(0, 20)
        end = cal.add(start, x, unit)
        assert end >= start
        assert abs(cal.elapsed(start, end, unit) - x) <= tolerance
        # Monotone in the amount.
        y = x + rng.uniform(0, 3)
        assert cal.add(start, y, unit) >= end
        # Additive: adding in two steps lands where one step does.
        assert abs(cal.add(end, y - x, unit) - cal.add(start, y, unit)) <= 2 * ONE_US
        # add(start, elapsed(start, other)) is the earliest instant with that much elapsed: <= other.
        other = start + (random_instant(rng) - random_instant(rng)) / 4
        amount = cal.elapsed(start, other, unit)
        back = cal.add(start, amount, unit)
        assert back <= max(other, start) + ONE_US
        assert abs(cal.elapsed(start, back, unit) - amount) <= tolerance


@pytest.mark.parametrize("unit", [TimeUnit.WORK_DAY, TimeUnit.WORK_HOUR])
def test_elapsed_matches_a_minute_by_minute_count(unit: TimeUnit) -> None:
    rng = random.Random(7)
    for _ in range(20):
        start = random_instant(rng).replace(month=9, day=rng.randrange(18, 30))
        end = start + timedelta(minutes=rng.randrange(1, 5 * 1440))
        minutes = 0
        t = start
        while t < end:
            local = t.astimezone(SH)
            if CAL.is_working_day(local.date()) and (
                unit is TimeUnit.WORK_DAY
                or any(a <= local.time() < b for a, b in CAL.office_hours_on(local.date()))
            ):
                minutes += 1
            t += timedelta(minutes=1)
        per_unit = 1440 if unit is TimeUnit.WORK_DAY else 60
        assert CAL.elapsed(start, end, unit) == pytest.approx(minutes / per_unit, abs=1e-9)
