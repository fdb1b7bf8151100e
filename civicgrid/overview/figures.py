"""The overview's figures, each from one aggregate query over the node's cases (definitions: queries.py).

No query per row: the headline is one query with conditional counts (and one over the revisits), the units'
and the grid cells' tables one grouped query each (plus one for the names), the child areas one query
grouped by place, the overdue list one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.expressions import Combinable
from django.urls import reverse

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_grid_cells, visible_units
from civicgrid.cases.models import Revisit, Satisfaction, Timing
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.overview import links
from civicgrid.overview.queries import (
    Period,
    Ratio,
    area_cases,
    is_done,
    is_open,
    is_overdue,
    missed_a_deadline,
)

LEAGUE_SIZE = 10
OVERDUE_LIST_SIZE = 10


def _count(q: Q | Combinable) -> Count:
    return Count("pk", filter=q)


@dataclass(frozen=True)
class Headline:
    received_today: int
    received_month: int
    closed_today: int
    closed_month: int
    open_now: int
    overdue_now: int
    close_rate: Ratio  # 结案率: closed / due for closing
    on_time_close_rate: Ratio  # 按期结案率: closed on time / due for closing
    satisfaction_rate: Ratio  # 满意率: satisfied + basically satisfied / answered revisits
    satisfied: int
    basically_satisfied: int
    revisits: int  # all of this month's revisits, "not rated" included


def headline(user: User, node: Jurisdiction, period: Period) -> Headline:
    cases = area_cases(user, node)
    due = period.due_for_closing()
    closed = due & is_done()
    row = cases.aggregate(
        received_today=_count(period.received_today()),
        received_month=_count(period.received_this_month()),
        closed_today=_count(period.closed_today()),
        closed_month=_count(period.closed_this_month()),
        open_now=_count(is_open()),
        overdue_now=_count(is_overdue(period.now)),
        due=_count(due),
        closed=_count(closed),
        on_time=_count(closed & ~missed_a_deadline()),
    )
    visits = Revisit.objects.filter(
        case__in=cases.values("pk"), at__gte=period.month_start, at__lt=period.day_end
    ).aggregate(
        total=Count("pk"),
        answered=_count(~Q(satisfaction=Satisfaction.NOT_RATED)),
        satisfied=_count(Q(satisfaction=Satisfaction.SATISFIED)),
        basically=_count(Q(satisfaction=Satisfaction.BASICALLY)),
    )
    return Headline(
        received_today=row["received_today"],
        received_month=row["received_month"],
        closed_today=row["closed_today"],
        closed_month=row["closed_month"],
        open_now=row["open_now"],
        overdue_now=row["overdue_now"],
        close_rate=Ratio(row["closed"], row["due"]),
        on_time_close_rate=Ratio(row["on_time"], row["due"]),
        satisfaction_rate=Ratio(visits["satisfied"] + visits["basically"], visits["answered"]),
        satisfied=visits["satisfied"],
        basically_satisfied=visits["basically"],
        revisits=visits["total"],
    )


# --- League tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeagueRow:
    code: str
    name: str
    figure: Ratio  # what the table ranks, with what it is a share of
    numerator_url: str | None  # the case list of each part; None when the list cannot show it
    denominator_url: str | None


@dataclass(frozen=True)
class Leagues:
    units_overdue: list[LeagueRow]  # overdue open cases / open cases, most overdue first
    units_on_time: list[LeagueRow]  # closed on time / due for closing, lowest rate first
    grids_overdue: list[LeagueRow]  # overdue open cases / open cases, most overdue first
    grids_received: list[LeagueRow]  # received this month / the area's received this month, most first


def _worst_count(rows: list[dict[str, Any]], n: str, d: str) -> list[dict[str, Any]]:
    """Most ``n`` first; ties: the larger share of ``d``, then the code."""
    ranked = [r for r in rows if r[n] > 0]
    ranked.sort(key=lambda r: (-r[n], -Fraction(r[n], r[d] or 1), r["code"]))
    return ranked[:LEAGUE_SIZE]


def _worst_rate(rows: list[dict[str, Any]], n: str, d: str) -> list[dict[str, Any]]:
    """Lowest ``n / d`` first (only rows with a denominator); ties: the larger denominator, then the code."""
    ranked = [r for r in rows if r[d] > 0]
    ranked.sort(key=lambda r: (Fraction(r[n], r[d]), -r[d], r["code"]))
    return ranked[:LEAGUE_SIZE]


def _unit_rows(user: User, node: Jurisdiction, period: Period) -> list[dict[str, Any]]:
    """Per current lead unit: open, overdue, due for closing and closed on time (one grouped query)."""
    due = period.due_for_closing()
    rows = list(
        area_cases(user, node)
        .filter(lead_unit__isnull=False)
        .values(key=F("lead_unit"))
        .annotate(
            open=_count(is_open()),
            overdue=_count(is_overdue(period.now)),
            due=_count(due),
            on_time=_count(due & is_done() & ~missed_a_deadline()),
        )
        .order_by()
    )
    # values_list, not model instances: deferred-field instances cost far more to build than these rows.
    units = {
        pk: (code, name)
        for pk, code, name in Unit.objects.filter(pk__in=[r["key"] for r in rows]).values_list(
            "pk", "code", "name"
        )
    }
    # The case list looks a unit up among the user's visible units; a case of this area may be led by a
    # unit above it (a city department), which the list cannot filter on: its row gets no links.
    linkable = set(visible_units(user).filter(pk__in=list(units)).values_list("pk", flat=True))
    for r in rows:
        r["code"], r["name"] = units[r["key"]]
        r["linkable"] = r["key"] in linkable
    return rows


def _grid_rows(user: User, node: Jurisdiction, period: Period, total: int) -> list[dict[str, Any]]:
    """Per grid cell: open, overdue and received this month (one grouped query); ``total`` is the area's
    received this month (the headline's figure)."""
    rows = list(
        area_cases(user, node)
        .filter(grid_cell__isnull=False)
        .values(key=F("grid_cell"))
        .annotate(
            open=_count(is_open()),
            overdue=_count(is_overdue(period.now)),
            received=_count(period.received_this_month()),
        )
        .order_by()
    )
    cells = {
        pk: (code, name)
        for pk, code, name in visible_grid_cells(user)
        .filter(pk__in=[r["key"] for r in rows])
        .values_list("pk", "code", "name")
    }
    rows = [r for r in rows if r["key"] in cells]  # the list can only filter on a visible cell
    for r in rows:
        r["code"], r["name"] = cells[r["key"]]
        r["total"] = total
    return rows


def leagues(
    user: User, node: Jurisdiction, period: Period, link: links.Links, received_month: int
) -> Leagues:
    """The league tables; ``received_month`` is the headline's count, the grids' common denominator."""
    unit_rows = _unit_rows(user, node, period)
    grid_rows = _grid_rows(user, node, period, received_month)

    def row(r: dict[str, Any], n: str, d: str, n_url: str | None, d_url: str | None) -> LeagueRow:
        if not r.get("linkable", True):
            n_url = d_url = None
        return LeagueRow(r["code"], r["name"], Ratio(r[n], r[d]), n_url, d_url)

    return Leagues(
        units_overdue=[
            row(
                r,
                "overdue",
                "open",
                link.overdue_now(("unit", r["code"])),
                link.open_now(("unit", r["code"])),
            )
            for r in _worst_count(unit_rows, "overdue", "open")
        ],
        units_on_time=[
            # "On time" is not a filter of the case list: only the denominator links.
            row(r, "on_time", "due", None, link.due_for_closing(("unit", r["code"])))
            for r in _worst_rate(unit_rows, "on_time", "due")
        ],
        grids_overdue=[
            row(
                r,
                "overdue",
                "open",
                link.overdue_now(("grid", r["code"])),
                link.open_now(("grid", r["code"])),
            )
            for r in _worst_count(grid_rows, "overdue", "open")
        ],
        grids_received=[
            row(
                r,
                "received",
                "total",
                link.received_this_month(("grid", r["code"])),
                link.received_this_month(),
            )
            for r in _worst_count(grid_rows, "received", "total")
        ],
    )


# --- The most overdue cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueCase:
    number: str
    title: str
    lead_unit: str
    due_at: datetime | None
    timing: str
    late: timedelta | None  # wall-clock time since the deadline
    url: str

    @property
    def late_days(self) -> int:
        return self.late.days if self.late else 0

    @property
    def late_hours(self) -> int:
        return self.late.seconds // 3600 if self.late else 0

    @property
    def is_serious(self) -> bool:
        return self.timing == Timing.SERIOUS


def most_overdue(user: User, node: Jurisdiction, period: Period) -> list[OverdueCase]:
    """The overdue open cases whose first-ending deadline passed longest ago."""
    base = reverse("cases:queues")
    rows = (
        area_cases(user, node)
        .filter(is_overdue(period.now))
        .order_by(F("due_at").asc(nulls_last=True), "received_at", "pk")
        .values("number", "title", "lead_unit__name", "due_at", "timing")[:OVERDUE_LIST_SIZE]
    )
    return [
        OverdueCase(
            number=r["number"],
            title=r["title"],
            lead_unit=r["lead_unit__name"] or "",
            due_at=r["due_at"],
            timing=r["timing"],
            late=period.now - r["due_at"] if r["due_at"] and r["due_at"] < period.now else None,
            url=links.case_page(r["number"], base),
        )
        for r in rows
    ]


# --- The areas under the node -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildArea:
    node: Jurisdiction
    received_month: int
    open_now: int
    overdue_now: int


def child_areas(user: User, node: Jurisdiction, period: Period) -> list[ChildArea]:
    """The node's children with their counts, to drill down. One grouped query by (where it happened,
    which desk owns it): the groups are bounded by the geography, not by the number of cases, and each
    group counts once in every child whose area holds either path (the ``in_area`` rule)."""
    children = list(node.children.filter(is_active=True).order_by("code"))
    if not children:
        return []
    groups = (
        area_cases(user, node)
        .values("origin_path", "level_path")
        .annotate(
            received=_count(period.received_this_month()),
            open=_count(is_open()),
            overdue=_count(is_overdue(period.now)),
        )
        .order_by()
    )
    totals = {child.pk: [0, 0, 0] for child in children}
    for g in groups:
        for child in children:
            if g["origin_path"].startswith(child.path) or g["level_path"].startswith(child.path):
                counts = totals[child.pk]
                counts[0] += g["received"]
                counts[1] += g["open"]
                counts[2] += g["overdue"]
    return [ChildArea(child, *totals[child.pk]) for child in children]
