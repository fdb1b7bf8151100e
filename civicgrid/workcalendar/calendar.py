"""The process-wide WorkCalendar, built from the two tables and rebuilt when either changes.

Like the grid index (civicgrid.grids.lookup), each call asks one aggregate query — the row count and the
latest ``updated_at`` of both tables — and rebuilds only when that answer differs from the one the cached
calendar was built from. A deleted row lowers a count; any save raises a ``updated_at``.
"""

from __future__ import annotations

import threading
import time as monotonic_time
from datetime import date, time
from typing import Any

from django.conf import settings
from django.db.models import CharField, Count, Max, QuerySet, Value

from civicgrid.lib.workcalendar import OfficeHours as OfficeHoursRow
from civicgrid.lib.workcalendar import WorkCalendar
from civicgrid.workcalendar.models import CalendarDay, OfficeHours

_lock = threading.Lock()
_current: tuple[tuple[object, ...], WorkCalendar] | None = None
_checked_at = 0.0


def _version() -> tuple[object, ...]:
    # One round trip for both tables: two whole-table aggregates (a constant tag is not grouped by), UNION
    # ALL so that two identical answers stay two rows; the tag says which row is which whatever order the
    # database returns them in.
    rows = sorted(_stats(CalendarDay, "days").union(_stats(OfficeHours, "hours"), all=True))
    return tuple(value for row in rows for value in row)


def _stats(model: type[CalendarDay | OfficeHours], tag: str) -> QuerySet[Any, tuple[Any, ...]]:
    return (
        model.objects.order_by()
        .annotate(tag=Value(tag, output_field=CharField()))
        .values("tag")
        .annotate(n=Count("id"), last=Max("updated_at"))
        .values_list("tag", "n", "last")
    )


def _build() -> WorkCalendar:
    overrides: dict[date, str] = {}
    names: dict[date, str] = {}
    for day, kind, name in CalendarDay.objects.values_list("date", "kind", "name"):
        overrides[day] = kind
        names[day] = name
    office_hours: list[OfficeHoursRow] = []
    for row in OfficeHours.objects.all():
        periods: list[tuple[time, time]] = [(row.morning_start, row.morning_end)]
        if row.afternoon_start is not None and row.afternoon_end is not None:
            periods.append((row.afternoon_start, row.afternoon_end))
        office_hours.append(OfficeHoursRow(valid_from=row.valid_from, periods=tuple(periods)))
    return WorkCalendar(overrides, office_hours, names=names)


def current_calendar() -> WorkCalendar:
    """The working calendar as the tables say now: one aggregate query per call, at most once per
    CACHE_RECHECK_SECONDS per process (edits through the actions drop the cache on commit at once)."""
    global _current, _checked_at
    current = _current
    if current is not None and monotonic_time.monotonic() - _checked_at < settings.CACHE_RECHECK_SECONDS:
        return current[1]
    version = _version()
    _checked_at = monotonic_time.monotonic()
    if current is not None and current[0] == version:
        return current[1]
    with _lock:
        if _current is None or _current[0] != version:
            _current = (version, _build())
        return _current[1]


def invalidate() -> None:
    """Drop the cached calendar (the next call rebuilds it)."""
    global _current
    with _lock:
        _current = None
