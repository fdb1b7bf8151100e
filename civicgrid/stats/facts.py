"""A case's fact row, computed from the case tables (definitions.py says what each flag means).

One SELECT reads what the facts need, per case, from the case, its clocks, its lead assignments, its
events and its revisits (correlated subqueries, each on an index that starts with the case), for a list of
cases or for a range of ids; Python turns each row into a ``Fact``: days in Asia/Shanghai, flags, and the
handling time in working minutes on the working calendar (which SQL cannot do).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from django.db import connection
from django.utils import timezone

from civicgrid.cases.models import (
    AssignmentRole,
    Case,
    CaseAssignment,
    CaseClock,
    CaseEvent,
    Resolution,
    Revisit,
    Satisfaction,
    Stage,
    Timing,
)
from civicgrid.cases.workflow import GROUP_OF, Action, Group
from civicgrid.lib.workcalendar import WorkCalendar
from civicgrid.stats.definitions import RECEIVED_COUNTERS

_LATE = (Timing.OVERDUE.value, Timing.SERIOUS.value)


def _t(model: Any) -> str:
    return f'"{model._meta.db_table}"'


def _select() -> str:
    late = ", ".join(f"'{v}'" for v in _LATE)
    # The latest revisit in which the resident answered either question (solved? satisfied?): a resident who
    # says "unresolved" without rating is still an answer, and can get the case reopened.
    revisit = (
        f"SELECT {{col}} FROM {_t(Revisit)} r WHERE r.case_id = c.id "
        f"AND (r.satisfaction <> '{Satisfaction.NOT_RATED.value}' OR r.resolution <> '') "
        "ORDER BY r.at DESC, r.id DESC LIMIT 1"
    )
    return (
        "SELECT c.id, c.version, c.received_at, c.closed_at, c.replied_at, c.status, c.channel, c.nature, "
        "c.category_id, c.grid_cell_id, c.origin_id, c.jurisdiction_id, c.lead_unit_id, "
        "c.registered_at, c.dispatched_at, c.return_count, c.rework_count, c.reopen_count, "
        "c.extension_count, c.escalation_count, "
        # Missed a stage deadline up to closing (the revisit's clock runs after closing: not counted).
        f"EXISTS (SELECT 1 FROM {_t(CaseClock)} k WHERE k.case_id = c.id AND k.timing IN ({late}) "
        f"AND k.stage <> '{Stage.REVISIT.value}'), "
        f"EXISTS (SELECT 1 FROM {_t(CaseClock)} k WHERE k.case_id = c.id AND k.timing IN ({late}) "
        f"AND k.stage = '{Stage.ACCEPT.value}'), "
        f"EXISTS (SELECT 1 FROM {_t(CaseClock)} k WHERE k.case_id = c.id AND k.timing IN ({late}) "
        f"AND k.stage = '{Stage.HANDLE.value}'), "
        # Signed for by the *latest* lead unit: a case returned and re-dispatched waits for its new unit.
        f"(SELECT a.accepted_at IS NOT NULL FROM {_t(CaseAssignment)} a WHERE a.case_id = c.id "
        f"AND a.role = '{AssignmentRole.LEAD.value}' ORDER BY a.id DESC LIMIT 1), "
        f"EXISTS (SELECT 1 FROM {_t(CaseEvent)} e WHERE e.case_id = c.id "
        f"AND e.code = '{Action.ANSWER_DIRECTLY.value}'), "
        f"({revisit.format(col='r.resolution')}), ({revisit.format(col='r.satisfaction')}) "
        f"FROM {_t(Case)} c"
    )


_SQL = _select()


@dataclass
class Fact:
    """The fields of a CaseFact row (models.CaseFact), as plain values."""

    case_id: int
    version: int
    received_day: date
    received_month: date
    closed_day: date | None
    closed_month: date | None
    origin_id: int
    owner_id: int
    grid_cell_id: int | None
    lead_unit_id: int | None
    category_id: int | None
    channel: str
    nature: str
    handling_minutes: int | None
    counts: dict[str, int]  # the received-axis counters (definitions.RECEIVED_COUNTERS), 0/1 or a number

    def row(self) -> dict[str, Any]:
        """Keyword arguments for CaseFact(...)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "counts"}
        values.update(self.counts)
        return values

    @property
    def closed_on_time(self) -> int:
        return self.counts["closed_on_time"]


def _local_day(value: datetime, tz: Any) -> date:
    return timezone.localtime(value, tz).date()


def _aware(value: Any) -> datetime | None:
    """A datetime from a raw cursor: SQLite gives naive UTC strings or datetimes, PostgreSQL aware ones."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)  # SQLite stores UTC without the zone
    return value  # type: ignore[no-any-return]


def fact_of(raw: Sequence[Any], calendar: WorkCalendar, tz: Any) -> Fact:
    """The fact of one row of ``_SQL``."""
    (
        case_id,
        version,
        received_at,
        closed_at,
        replied_at,
        status,
        channel,
        nature,
        category_id,
        grid_cell_id,
        origin_id,
        owner_id,
        lead_unit_id,
        registered_at,
        dispatched_at,
        return_count,
        rework_count,
        reopen_count,
        extension_count,
        escalation_count,
        missed,
        accept_late,
        handle_late,
        accepted,
        direct,
        resolution,
        satisfaction,
    ) = raw
    received_at = _aware(received_at)
    closed_at = _aware(closed_at)
    assert received_at is not None
    group = GROUP_OF[status]
    due = group is not Group.DROPPED
    done = group is Group.DONE
    is_open = group is Group.OPEN
    missed, accept_late, handle_late, accepted, direct = (
        bool(missed),
        bool(accept_late),
        bool(handle_late),
        bool(accepted),
        bool(direct),
    )
    accepted_on_time = accepted and not accept_late
    revisited = resolution is not None or satisfaction is not None  # the subquery found an answer
    flags = {
        "received": True,
        "due": due,
        "registered": registered_at is not None,
        "direct": direct,
        "dispatched": dispatched_at is not None,
        "accepted_on_time": accepted_on_time,
        "responded": direct or (accepted_on_time and replied_at is not None and not handle_late),
        "returned": return_count > 0,
        "extended": extension_count > 0,
        "escalated": escalation_count > 0,
        "closed": done,
        "closed_on_time": done and not missed,
        "overdue_closed": done and missed,
        "overdue_open": is_open and missed,
        "reworked": done and rework_count > 0,  # of the closed: 返工率 = reworked / closed stays ≤ 100 %
        "reopened": reopen_count > 0,
        "revisited": revisited,
        "solved": resolution == Resolution.RESOLVED,
        "partly_solved": resolution == Resolution.PARTLY,
        "satisfied": satisfaction == Satisfaction.SATISFIED,
        "basically_satisfied": satisfaction == Satisfaction.BASICALLY,
    }
    counts = {code: int(flags[code]) if code != "returns" else 0 for code in RECEIVED_COUNTERS}
    counts["returns"] = int(return_count)
    if not due:
        # A dropped case counts as received and nothing else: every other count is of the cases due.
        counts = dict.fromkeys(RECEIVED_COUNTERS, 0) | {"received": 1}
    received_day = _local_day(received_at, tz)
    closed_day = _local_day(closed_at, tz) if done and closed_at is not None else None
    minutes = None
    if closed_day is not None and not direct:
        assert closed_at is not None
        # Exact: a float of hours turns a half minute into x.4999… or x.5000…1 (found by the us311 check).
        minutes = round(Fraction(calendar.elapsed_us(received_at, closed_at, "work_hour"), 60_000_000))
    return Fact(
        case_id=case_id,
        version=version,
        received_day=received_day,
        received_month=received_day.replace(day=1),
        closed_day=closed_day,
        closed_month=closed_day.replace(day=1) if closed_day else None,
        origin_id=origin_id,
        owner_id=owner_id,
        grid_cell_id=grid_cell_id,
        lead_unit_id=lead_unit_id,
        category_id=category_id,
        channel=channel,
        nature=nature,
        handling_minutes=minutes,
        counts=counts,
    )


def facts_of(case_ids: Sequence[int], calendar: WorkCalendar) -> list[Fact]:
    """The facts of these cases (those that exist), now."""
    if not case_ids:
        return []
    tz = timezone.get_default_timezone()
    marks = ", ".join(["%s"] * len(case_ids))
    with connection.cursor() as c:
        c.execute(f"{_SQL} WHERE c.id IN ({marks})", list(case_ids))
        return [fact_of(row, calendar, tz) for row in c.fetchall()]


def all_facts(calendar: WorkCalendar, *, chunk: int = 5000) -> Iterator[list[Fact]]:
    """Every case's fact, in chunks by id (keyset pagination: no long-lived cursor)."""
    tz = timezone.get_default_timezone()
    last = 0
    while True:
        with connection.cursor() as c:
            c.execute(f"{_SQL} WHERE c.id > %s ORDER BY c.id LIMIT %s", [last, chunk])
            rows = c.fetchall()
        if not rows:
            return
        yield [fact_of(row, calendar, tz) for row in rows]
        last = rows[-1][0]
