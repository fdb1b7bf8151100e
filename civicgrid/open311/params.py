"""Reading GeoReport v2 arguments. The specification's rules: an empty optional argument is the same as an
absent one; datetimes are W3C/ISO 8601. Every problem becomes an ``Open311Error`` naming the argument, in
the request's language; the view turns it into the specification's ``errors`` list."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

MAX_ARGUMENT_LENGTH = 4000  # the longest argument the specification allows (description)


class Open311Error(Exception):
    """One or more problems answered with one HTTP status (400, 403, 404, 429)."""

    def __init__(self, status: int, *descriptions: str) -> None:
        self.status = status
        self.descriptions = list(descriptions)
        super().__init__("; ".join(descriptions))


def bad(name: str, reason: str) -> str:
    """“service_code: reason” — the argument first, as clients show it to their developers."""
    return f"{name}: {reason}"


def optional(data: QueryDict, name: str) -> str | None:
    """The argument's value, stripped; None when absent or empty (the specification's "optional")."""
    values = data.getlist(name)
    if not values:
        return None
    value = values[-1].strip()
    return value or None


def text(data: QueryDict, name: str, *, max_length: int, errors: list[str]) -> str:
    value = optional(data, name) or ""
    if len(value) > max_length:
        errors.append(
            bad(name, _("At most %(n)s characters, this has %(m)s.") % {"n": max_length, "m": len(value)})
        )
        return ""
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value) or "\x7f" in value:
        errors.append(bad(name, _("Control characters are not allowed.")))
        return ""
    return value


def number(data: QueryDict, name: str, *, low: float, high: float, errors: list[str]) -> float | None:
    value = optional(data, name)
    if value is None:
        return None
    try:
        parsed = float(value)
    except ValueError:
        errors.append(bad(name, _("Enter a number.")))
        return None
    if not (low <= parsed <= high):  # also refuses nan and inf
        errors.append(bad(name, _("Must lie between %(low)s and %(high)s.") % {"low": low, "high": high}))
        return None
    return parsed


def integer(data: QueryDict, name: str, *, low: int, high: int, default: int) -> int:
    value = optional(data, name)
    if value is None:
        return default
    # Compared as text first: int() refuses strings of over 4,300 digits (ValueError, a 500 here).
    digits = value.lstrip("0") or "0"
    if (
        not value.isascii()
        or not value.isdigit()
        or len(digits) > len(str(high))
        or not (low <= int(digits) <= high)
    ):
        raise Open311Error(
            400, bad(name, _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
        )
    return int(digits)


def boolean(data: QueryDict, name: str) -> bool:
    value = optional(data, name)
    if value is None:
        return False
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise Open311Error(400, bad(name, _("Enter true or false.")))


def comma_list(data: QueryDict, name: str, *, most: int) -> list[str]:
    """A comma-separated list (several occurrences of the argument are joined), without empty members."""
    members = [m.strip() for value in data.getlist(name) for m in value.split(",")]
    members = [m for m in members if m]
    # No code or id has one, and PostgreSQL refuses NUL in a text parameter (a 500 otherwise).
    if any(ord(c) < 32 or c == "\x7f" for m in members for c in m):
        raise Open311Error(400, bad(name, _("Control characters are not allowed.")))
    if len(members) > most:
        raise Open311Error(400, bad(name, _("At most %(n)s values.") % {"n": most}))
    return list(dict.fromkeys(members))


_BARE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def moment(value: str, name: str, *, end_of_day: bool = False) -> datetime:
    """A W3C datetime. Without a zone it is read in the server's zone; a bare date is the start of that day
    (or, for an end of a range, the start of the next), so ``end_date=2026-11-30`` includes the 30th."""
    parsed = None
    if not _BARE_DATE.fullmatch(value):  # parse_datetime (Python ≥ 3.11) would read a bare date as midnight
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    zone = ZoneInfo(settings.TIME_ZONE)
    if parsed is None:
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is None:
            raise Open311Error(
                400, bad(name, _("Enter a date and time such as 2026-11-24T09:30:00+08:00."))
            ) from None
        _require_sane_year(day.year, name)
        if end_of_day:
            day = date.fromordinal(day.toordinal() + 1)
        return datetime.combine(day, time.min, tzinfo=zone)
    _require_sane_year(parsed.year, name)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    offset = parsed.utcoffset()
    # Real zones lie within ±14 hours; PostgreSQL refuses a displacement past ±15:59 (a 500, found by the
    # fuzz test with "+23:59"), which Python's ISO parser accepts.
    if offset is not None and abs(offset) > timedelta(hours=14):
        raise Open311Error(400, bad(name, _("The time zone offset must lie between −14:00 and +14:00.")))
    return parsed


def _require_sane_year(year: int, name: str) -> None:
    # Ranges are computed around the value (± 90 days, zone shifts): years at the edge of what datetime
    # holds would overflow there, and no request is that old or that far ahead.
    if not 1900 <= year <= 2200:
        raise Open311Error(400, bad(name, _("The year must lie between 1900 and 2200.")))
