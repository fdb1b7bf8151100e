"""The Chinese working-day calendar and time-limit arithmetic (ORM-free; see docs/architecture.md,
"Working calendar and time limits", and the workflow reference, section 3).

Day kinds
    Every date is a workday, a weekend day, a public holiday or a make-up working day (调休上班); it is a
    *working day* iff it is a workday or a make-up working day. Precedence: the admin-entered overrides
    (``CalendarDay`` rows) > the ``chinesecalendar`` package (the State Council notices, 2004 up to the
    last year it ships) > the weekday rule (Monday–Friday work). Results are cached per date; nothing here
    touches the database.

The timeline model
    Each unit defines a *timeline*, the part of wall-clock time that counts:

    - ``urgent_hour`` (紧急工作时) and ``natural_day`` (自然日): all time, nights, weekends and holidays
      included; 1 urgent_hour = 1 h, 1 natural_day = 24 h (absolute time, not "same wall-clock time").
    - ``work_day`` (工作日): every working day contributes its full 24 h (local 00:00–24:00), other days
      nothing; 1 work_day = 24 h of working-day time.
    - ``work_hour`` (工作时): only the office-hour intervals of working days, as given by the ``OfficeHours``
      row in force on that date (latest ``valid_from`` <= date; 08:00–12:00 and 14:00–18:00 when there is
      none); 1 work_hour = 1 h of office time.

    ``add(start, n, unit)`` is the earliest instant at which ``n`` units of the timeline have elapsed since
    ``start``; ``elapsed(start, end, unit)`` measures the timeline between two instants; ``push`` moves a
    deadline by the timeline amount of a pause. Consequences: a work_day limit started on a non-working day
    counts from the next working day's 00:00; 5 work_days from 10:00 on a working day end at 10:00 on the
    5th following working day; a work_hour limit started outside office hours begins at the next opening
    and one that is used up exactly at a closing ends then (not at the next opening); fractional amounts
    work (0.8 × the limit is the 80 % warning instant). Amounts are resolved to the microsecond.

    work_day and work_hour are measured on the local wall clock of ``tz`` (Asia/Shanghai has no daylight
    saving; in a zone that has it, a working day still counts 24 wall-clock hours).

Implementation: per unit, a prefix-sum array of timeline microseconds per day (built a year at a time,
lazily), so ``add`` is a bisection and ``elapsed`` two lookups, whatever the amount.
"""

from __future__ import annotations

import itertools
import math
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]

DEFAULT_TZ = "Asia/Shanghai"


class TimeUnit(StrEnum):
    URGENT_HOUR = "urgent_hour"  # 紧急工作时: continuous wall-clock hours
    WORK_HOUR = "work_hour"  # 工作时: office hours on working days only
    WORK_DAY = "work_day"  # 工作日: working days only (make-up days included)
    NATURAL_DAY = "natural_day"  # 自然日: 24 h


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    PUBLIC_HOLIDAY = "public_holiday"
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班: a weekend day worked in exchange for a holiday


WORKING_KINDS = frozenset({DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY})

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR
_UNIT_US: dict[TimeUnit, int] = {
    TimeUnit.URGENT_HOUR: _US_PER_HOUR,
    TimeUnit.WORK_HOUR: _US_PER_HOUR,
    TimeUnit.WORK_DAY: _US_PER_DAY,
    TimeUnit.NATURAL_DAY: _US_PER_DAY,
}
_WHOLE_DAY: tuple[tuple[int, int], ...] = ((0, _US_PER_DAY),)
_ONE_US = timedelta(microseconds=1)
# A limit that finds no working time in this many years is a misconfiguration, not a long wait.
_MAX_EMPTY_YEARS = 10

Periods = tuple[tuple[time, time], ...]
DEFAULT_PERIODS: Periods = ((time(8, 0), time(12, 0)), (time(14, 0), time(18, 0)))


@dataclass(frozen=True)
class OfficeHours:
    """The office hours in force from ``valid_from`` until the next row's ``valid_from``."""

    valid_from: date
    periods: Periods = DEFAULT_PERIODS

    def __post_init__(self) -> None:
        check_periods(self.periods)


def check_periods(periods: Periods) -> None:
    """Raise ValueError unless the periods are non-empty, each ends after it starts, and they are in order
    without overlapping (touching is allowed)."""
    if not periods:
        raise ValueError("office hours need at least one period")
    previous_end: time | None = None
    for start, end in periods:
        if end <= start:
            raise ValueError(f"an office-hours period must end after it starts ({start}–{end})")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"office-hours periods overlap or are out of order ({start} < {previous_end})")
        previous_end = end


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _jan1(ordinal: int) -> int:
    return date(date.fromordinal(ordinal).year, 1, 1).toordinal()


def _next_jan1(ordinal: int) -> int:
    return date(date.fromordinal(ordinal).year + 1, 1, 1).toordinal()


# The package's data never changes within a process, so its answers are shared by every calendar (a new
# calendar is built whenever an admin edits a row). None: the package does not cover that year.
_package_days: dict[date, tuple[DayKind, str] | None] = {}


def _package_day(d: date) -> tuple[DayKind, str] | None:
    try:
        return _package_days[d]
    except KeyError:
        pass
    result: tuple[DayKind, str] | None
    try:
        is_holiday, english = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        result = None
    else:
        name = _chinese_name(english) if english else ""
        if is_holiday:
            result = (DayKind.PUBLIC_HOLIDAY if english else DayKind.WEEKEND, name)
        elif english and d.weekday() >= 5:
            result = (DayKind.MAKEUP_WORKDAY, name)
        else:
            result = (DayKind.WORKDAY, name)
    _package_days[d] = result
    return result


def _chinese_name(english: str) -> str:
    # The package names holidays in English; its Holiday enum carries the Chinese name our users read.
    try:
        return str(chinese_calendar.Holiday(english).chinese)
    except (ValueError, AttributeError):
        return english


def _weekday_kind(d: date) -> DayKind:
    return DayKind.WEEKEND if d.weekday() >= 5 else DayKind.WORKDAY


@dataclass(frozen=True)
class _Prefix:
    """cum[i] = timeline microseconds in the days lo .. lo+i-1 (so cum[0] = 0); covers days lo .. hi-1."""

    lo: int
    cum: list[int]

    @property
    def hi(self) -> int:
        return self.lo + len(self.cum) - 1


class WorkCalendar:
    """Day kinds and time-limit arithmetic over a fixed set of overrides and office-hours rows.

    Immutable once built (its caches only grow), so one instance can be shared by threads.
    """

    def __init__(
        self,
        overrides: Mapping[date, DayKind | str] | None = None,
        office_hours: Sequence[OfficeHours] = (),
        tz: tzinfo | str = DEFAULT_TZ,
        *,
        names: Mapping[date, str] | None = None,
    ) -> None:
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._overrides = {d.toordinal(): DayKind(kind) for d, kind in (overrides or {}).items()}
        self._names = {d.toordinal(): name for d, name in (names or {}).items() if name}
        rows = sorted(office_hours, key=lambda row: row.valid_from)
        for earlier, later in itertools.pairwise(rows):
            if earlier.valid_from == later.valid_from:
                raise ValueError(f"two office-hours rows are valid from {later.valid_from}")
        self._hours_from = [row.valid_from.toordinal() for row in rows]
        self._hours_times = [row.periods for row in rows]
        self._hours_periods = [tuple((_time_us(a), _time_us(b)) for a, b in row.periods) for row in rows]
        self._hours_default = tuple((_time_us(a), _time_us(b)) for a, b in DEFAULT_PERIODS)
        self._kinds: dict[int, DayKind] = {}
        self._prefix: dict[TimeUnit, _Prefix] = {}
        self._lock = threading.Lock()

    # --- Days -----------------------------------------------------------------------------------------

    def day_kind(self, d: date) -> DayKind:
        return self._kind(d.toordinal())

    def is_working_day(self, d: date) -> bool:
        return self._kind(d.toordinal()) in WORKING_KINDS

    def day_name(self, d: date) -> str:
        """The override's name, else the package's holiday name (in Chinese, e.g. 国庆节; also on the
        make-up working days of that holiday), else ""."""
        ordinal = d.toordinal()
        if ordinal in self._overrides:
            return self._names.get(ordinal, "")
        known = _package_day(d)
        return known[1] if known else ""

    def office_hours_on(self, d: date) -> Periods:
        """The office-hours periods in force on a date (whether or not it is a working day)."""
        index = bisect_right(self._hours_from, d.toordinal()) - 1
        return self._hours_times[index] if index >= 0 else DEFAULT_PERIODS

    def _kind(self, ordinal: int) -> DayKind:
        kind = self._kinds.get(ordinal)
        if kind is None:
            kind = self._overrides.get(ordinal)
            if kind is None:
                d = date.fromordinal(ordinal)
                known = _package_day(d)
                kind = known[0] if known else _weekday_kind(d)
            self._kinds[ordinal] = kind
        return kind

    def _periods(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        index = bisect_right(self._hours_from, ordinal) - 1
        return self._hours_periods[index] if index >= 0 else self._hours_default

    def _intervals(self, ordinal: int, unit: TimeUnit) -> tuple[tuple[int, int], ...]:
        """The timeline's intervals on a day, in microseconds since local midnight."""
        if self._kind(ordinal) not in WORKING_KINDS:
            return ()
        return _WHOLE_DAY if unit is TimeUnit.WORK_DAY else self._periods(ordinal)

    # --- Arithmetic -----------------------------------------------------------------------------------

    def add(self, start: datetime, amount: float | Decimal, unit: TimeUnit | str) -> datetime:
        """The earliest instant at which ``amount`` units of the unit's timeline have elapsed since
        ``start`` (aware, in ``tz``)."""
        unit = TimeUnit(unit)
        return self._add_us(start, _amount_us(amount, unit), unit)

    def elapsed(self, start: datetime, end: datetime, unit: TimeUnit | str) -> float:
        """The amount of the unit's timeline between two instants (0 when end <= start)."""
        unit = TimeUnit(unit)
        return self._elapsed_us(start, end, unit) / _UNIT_US[unit]

    def elapsed_us(self, start: datetime, end: datetime, unit: TimeUnit | str) -> int:
        """``elapsed`` in whole microseconds of the unit's timeline, exact (no float rounding): for sums and
        roundings that must agree with an independent count."""
        return self._elapsed_us(start, end, TimeUnit(unit))

    def push(
        self, deadline: datetime, paused_from: datetime, paused_to: datetime, unit: TimeUnit | str
    ) -> datetime:
        """The deadline moved later by the pause, measured in the unit's timeline (a pause over a weekend
        pushes a work_day deadline only by the working time it covered)."""
        unit = TimeUnit(unit)
        return self._add_us(deadline, self._elapsed_us(paused_from, paused_to, unit), unit)

    def _add_us(self, start: datetime, amount_us: int, unit: TimeUnit) -> datetime:
        local = self._local(start)
        if amount_us == 0:
            return local
        if unit is TimeUnit.URGENT_HOUR or unit is TimeUnit.NATURAL_DAY:
            # Absolute time: through UTC, because aware + timedelta is wall-clock arithmetic in Python.
            return (local.astimezone(UTC) + timedelta(microseconds=amount_us)).astimezone(self.tz)
        ordinal = local.toordinal()
        prefix = self._ensure(unit, ordinal, ordinal)
        i = ordinal - prefix.lo
        target = prefix.cum[i] + self._within(ordinal, _time_us(local.time()), unit) + amount_us
        empty_years = 0
        while target > prefix.cum[-1]:
            before = prefix.cum[-1]
            prefix = self._ensure(unit, prefix.lo, prefix.hi)  # one more year
            empty_years = empty_years + 1 if prefix.cum[-1] == before else 0
            if empty_years >= _MAX_EMPTY_YEARS:
                raise ValueError(f"no {unit} time in the {_MAX_EMPTY_YEARS} years after {local.date()}")
        j = bisect_left(prefix.cum, target, i + 1)
        day = prefix.lo + j - 1
        rest = target - prefix.cum[j - 1]  # 0 < rest <= the day's timeline amount
        offset = 0
        for a, b in self._intervals(day, unit):
            if rest <= b - a:
                offset = a + rest
                break
            rest -= b - a
        # Wall-clock offset from local midnight (see the module docstring on daylight saving).
        return datetime.combine(date.fromordinal(day), time(), tzinfo=self.tz) + timedelta(
            microseconds=offset
        )

    def _elapsed_us(self, start: datetime, end: datetime, unit: TimeUnit) -> int:
        a, b = self._local(start), self._local(end)
        if unit is TimeUnit.URGENT_HOUR or unit is TimeUnit.NATURAL_DAY:
            # In UTC: subtracting two datetimes with the same tzinfo would compare wall clocks.
            return max(0, (b.astimezone(UTC) - a.astimezone(UTC)) // _ONE_US)
        if b <= a:
            return 0
        oa, ob = a.toordinal(), b.toordinal()
        prefix = self._ensure(unit, oa, ob)
        pos_a = prefix.cum[oa - prefix.lo] + self._within(oa, _time_us(a.time()), unit)
        pos_b = prefix.cum[ob - prefix.lo] + self._within(ob, _time_us(b.time()), unit)
        return max(0, pos_b - pos_a)

    def _within(self, ordinal: int, at_us: int, unit: TimeUnit) -> int:
        """Timeline microseconds on a day before ``at_us`` (microseconds since local midnight)."""
        total = 0
        for a, b in self._intervals(ordinal, unit):
            if at_us <= a:
                break
            total += (at_us if at_us < b else b) - a
        return total

    def _local(self, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a timezone-aware datetime is required, got {value!r}")
        return value.astimezone(self.tz)

    def _ensure(self, unit: TimeUnit, first: int, last: int) -> _Prefix:
        """The unit's prefix sums, extended (by whole years) to cover the days first .. last."""
        prefix = self._prefix.get(unit)
        if prefix is not None and prefix.lo <= first and last < prefix.hi:
            return prefix
        with self._lock:
            prefix = self._prefix.get(unit)
            if prefix is None:
                lo, hi = _jan1(first), _next_jan1(last)
                cum = self._cumulate(unit, lo, hi, 0)
            else:
                lo, hi = min(prefix.lo, _jan1(first)), max(prefix.hi, _next_jan1(last))
                # A new list, swapped in whole: readers holding the old prefix keep a consistent one.
                before = self._cumulate(unit, lo, prefix.lo, 0)
                shift = before[-1]
                cum = before[:-1] + [value + shift for value in prefix.cum]
                cum += self._cumulate(unit, prefix.hi, hi, cum[-1])[1:]
            prefix = _Prefix(lo, cum)
            self._prefix[unit] = prefix
            return prefix

    def _cumulate(self, unit: TimeUnit, lo: int, hi: int, initial: int) -> list[int]:
        cum = [initial]
        running = initial
        for ordinal in range(lo, hi):
            running += sum(b - a for a, b in self._intervals(ordinal, unit))
            cum.append(running)
        return cum


def _amount_us(amount: float | Decimal, unit: TimeUnit) -> int:
    per_unit = _UNIT_US[unit]
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise ValueError(f"the amount must be finite, got {amount}")
        result = int((amount * per_unit).to_integral_value(ROUND_HALF_EVEN))
    else:
        value = float(amount)
        if not math.isfinite(value):
            raise ValueError(f"the amount must be finite, got {amount}")
        # Rounded, not ceiled: elapsed() → add() must round-trip to the microsecond despite float error.
        result = round(value * per_unit)
    if result < 0:
        raise ValueError(f"the amount must not be negative, got {amount}")
    return result
