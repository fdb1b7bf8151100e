"""Every write to the working calendar goes through these actions (keyword-only ``actor``).

``actor`` is None only for system work (management commands, the demo loader). The ``check_…`` functions
validate without writing; the admin forms call them so that errors land on the right field.
"""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from civicgrid.lib.workcalendar import DayKind, Periods
from civicgrid.workcalendar import calendar
from civicgrid.workcalendar.models import CalendarDay, OfficeHours

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

_WEEKEND_ONLY = frozenset({DayKind.WEEKEND, DayKind.MAKEUP_WORKDAY})


def _max_length(field: str) -> int:
    model_field = CalendarDay._meta.get_field(field)
    assert isinstance(model_field, models.CharField)
    assert model_field.max_length is not None
    return model_field.max_length


def check_calendar_day(*, day: date, kind: DayKind | str, name: str = "", source: str = "") -> DayKind:
    """Validate a calendar row; returns the kind. Raises ValidationError naming the field."""
    try:
        day_kind = DayKind(kind)
    except ValueError:
        raise ValidationError({"kind": _("“%(kind)s” is not a kind of day.") % {"kind": kind}}) from None
    # A make-up working day is by definition a weekend day that is worked; a weekday that is closed is a
    # holiday. Catching the mix-up here avoids a silently wrong calendar.
    if day_kind in _WEEKEND_ONLY and day.weekday() < 5:
        if day_kind is DayKind.MAKEUP_WORKDAY:
            message = _("A make-up working day must be a Saturday or a Sunday; %(day)s is a weekday.")
        else:
            message = _(
                "Only a Saturday or a Sunday can be a weekend day; mark a closed weekday as a holiday."
            )
        raise ValidationError({"kind": message % {"day": day.isoformat()}})
    for field, value in (("name", name), ("source", source)):
        limit = _max_length(field)
        if len(value) > limit:
            raise ValidationError(
                {field: _("At most %(limit)d characters (it has %(n)d).") % {"limit": limit, "n": len(value)}}
            )
    return day_kind


def check_office_hours(
    *,
    morning_start: time,
    morning_end: time,
    afternoon_start: time | None = None,
    afternoon_end: time | None = None,
) -> Periods:
    """Validate one office-hours row; returns its periods. Raises ValidationError naming the field."""
    if morning_end <= morning_start:
        raise ValidationError({"morning_end": _("The morning must end after it starts.")})
    if (afternoon_start is None) != (afternoon_end is None):
        missing = "afternoon_end" if afternoon_end is None else "afternoon_start"
        raise ValidationError({missing: _("Give both the start and the end of the afternoon, or neither.")})
    if afternoon_start is None or afternoon_end is None:
        return ((morning_start, morning_end),)
    if afternoon_end <= afternoon_start:
        raise ValidationError({"afternoon_end": _("The afternoon must end after it starts.")})
    if afternoon_start < morning_end:
        raise ValidationError({"afternoon_start": _("The afternoon must not start before the morning ends.")})
    return ((morning_start, morning_end), (afternoon_start, afternoon_end))


def _invalidate_after_commit() -> None:
    # The version check in calendar.current_calendar() already notices the change; dropping the cached
    # calendar on commit just saves this process that query's round of doubt (clock resolution).
    transaction.on_commit(calendar.invalidate)


@transaction.atomic
def do_set_calendar_day(
    *, day: date, kind: DayKind | str, name: str = "", source: str = "", actor: User | None
) -> CalendarDay:
    """Create or replace the override for a date."""
    day_kind = check_calendar_day(day=day, kind=kind, name=name, source=source)
    row, _created = CalendarDay.objects.update_or_create(
        date=day, defaults={"kind": day_kind.value, "name": name, "source": source}
    )
    _invalidate_after_commit()
    return row


@transaction.atomic
def do_delete_calendar_day(day: date, *, actor: User | None) -> bool:
    """Remove the override for a date (the package and the weekday rule apply again). True if there was
    one."""
    deleted, _per_model = CalendarDay.objects.filter(date=day).delete()
    _invalidate_after_commit()
    return deleted > 0


@transaction.atomic
def do_set_office_hours(
    *,
    valid_from: date,
    morning_start: time,
    morning_end: time,
    afternoon_start: time | None = None,
    afternoon_end: time | None = None,
    actor: User | None,
) -> OfficeHours:
    """Create or replace the office hours in force from ``valid_from``."""
    check_office_hours(
        morning_start=morning_start,
        morning_end=morning_end,
        afternoon_start=afternoon_start,
        afternoon_end=afternoon_end,
    )
    row, _created = OfficeHours.objects.update_or_create(
        valid_from=valid_from,
        defaults={
            "morning_start": morning_start,
            "morning_end": morning_end,
            "afternoon_start": afternoon_start,
            "afternoon_end": afternoon_end,
        },
    )
    _invalidate_after_commit()
    return row


@transaction.atomic
def do_delete_office_hours(valid_from: date, *, actor: User | None) -> bool:
    """Remove an office-hours row (the previous row, or the default, applies again). True if there was
    one."""
    deleted, _per_model = OfficeHours.objects.filter(valid_from=valid_from).delete()
    _invalidate_after_commit()
    return deleted > 0
