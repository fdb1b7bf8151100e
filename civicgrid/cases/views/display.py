"""How deadlines, clocks and timeline entries read on the staff pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.cases.models import Case, TimeUnit, Timing
from civicgrid.cases.workflow import GROUP_OF, Group


@dataclass(frozen=True)
class Deadline:
    css: str  # the badge class: on_time, warning, overdue, serious
    text: str
    due_at: datetime | None


def _span(seconds: float) -> str:
    """A natural-time span, coarse: 2 天 3 小时, 5 小时 10 分钟, 12 分钟."""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days} + (
            " " + ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours} if hours else ""
        )
    if hours:
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours} + (
            " " + ngettext("%(n)s minute", "%(n)s minutes", mins) % {"n": mins} if mins else ""
        )
    return ngettext("%(n)s minute", "%(n)s minutes", mins) % {"n": mins}


def deadline_of(case: Case, now: datetime) -> Deadline | None:
    """The case's nearest running deadline as a badge (None when no clock runs, e.g. closed cases)."""
    if GROUP_OF.get(case.status) != Group.OPEN or case.due_at is None:
        return None
    left = (case.due_at - now).total_seconds()
    late = left < 0 or case.timing in (Timing.OVERDUE, Timing.SERIOUS)
    if late:
        css = Timing.SERIOUS.value if case.timing == Timing.SERIOUS else Timing.OVERDUE.value
        text = (
            _("overdue by %(span)s") % {"span": _span(left)} if left < 0 else str(Timing(case.timing).label)
        )
    else:
        css = Timing.WARNING.value if case.timing == Timing.WARNING else Timing.ON_TIME.value
        text = _("%(span)s left") % {"span": _span(left)}
    return Deadline(css=css, text=text, due_at=timezone.localtime(case.due_at))


def clock_text(remaining: float | None, unit: str) -> str:
    """A clock's remaining time in its own unit (working hours or days), negative when late."""
    if remaining is None:
        return ""
    label = str(TimeUnit(unit).label) if unit in TimeUnit.values else unit
    amount = f"{abs(remaining):g}"
    if remaining < 0:
        return _("%(amount)s %(unit)s late") % {"amount": amount, "unit": label}
    return _("%(amount)s %(unit)s left") % {"amount": amount, "unit": label}


# Event data worth showing on the timeline, in this order (the rest is technical: ids, codes, levels).
TIMELINE_TEXT = ("reason", "note", "answer", "reply", "opinion", "comment", "basis")


def event_lines(data: dict[str, Any]) -> list[str]:
    return [str(data[k]) for k in TIMELINE_TEXT if isinstance(data.get(k), str) and data[k].strip()]
