"""A scheme's ranking for one period, live from the statistics' rollups, or as it was published.

Figures come from civicgrid.stats (docs/statistics.md): a unit's or grid cell's are its row of the scheme
area's monthly breakdown (the cases of the area whose latest lead unit it is / that happened in the cell),
an area's are its own totals. Either way a ranking of 5,000 grid cells is a handful of queries. Periods are
always whole months (month, quarter, year), so the rollups answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.stats import figures
from civicgrid.stats.definitions import RATE, Dim
from civicgrid.stats.figures import Counts, Period, Ratio, add_months
from civicgrid.stats.links import Links
from civicgrid.stats.models import StatsState

from .models import AssessmentResult, AssessmentScheme, Grouping, PeriodKind, Subject
from .scoring import Entry, IndicatorRule, Mark, judge, rank

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


def percent(value: Any) -> Fraction:
    """A percentage as stored (Decimal) → a share of 1."""
    return Fraction(str(value)) / 100


# --- Periods ---------------------------------------------------------------------------------------------


def last_closed_period(kind: str, today: date) -> Period:
    """The latest period of this kind that has ended: what is assessed by default."""
    if kind == PeriodKind.YEAR:
        return Period.year(today.year - 1)
    if kind == PeriodKind.QUARTER:
        first = add_months(today.replace(day=1), -((today.month - 1) % 3) - 3)
        return Period.quarter(first.year, (first.month + 2) // 3)
    first = add_months(today.replace(day=1), -1)
    return Period.month(first.year, first.month)


def parse_period(kind: str, text: str) -> Period:
    """ "2026-10" (monthly), "2026-Q3" (quarterly), "2026" (yearly): the scheme's kind only."""
    text = text.strip()
    try:
        if kind == PeriodKind.MONTH and (m := _MONTH.match(text)):
            return Period.month(int(m.group(1)), int(m.group(2)))
        if kind == PeriodKind.QUARTER and (m := _QUARTER.match(text)):
            return Period.quarter(int(m.group(1)), int(m.group(2)))
        if kind == PeriodKind.YEAR and (m := _YEAR.match(text)):
            return Period.year(int(m.group(1)))
    except ValueError:
        pass
    examples = {PeriodKind.MONTH: "2026-10", PeriodKind.QUARTER: "2026-Q3", PeriodKind.YEAR: "2026"}
    raise ValidationError(
        {
            "p": _("This scheme is assessed %(kind)s: give a period like %(example)s.")
            % {"kind": PeriodKind(kind).label, "example": examples[PeriodKind(kind)]}
        }
    )


def period_code(kind: str, period: Period) -> str:
    if kind == PeriodKind.YEAR:
        return str(period.first.year)
    if kind == PeriodKind.QUARTER:
        return f"{period.first.year}-Q{(period.first.month + 2) // 3}"
    return f"{period.first:%Y-%m}"


# --- Subjects --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectRef:
    key: str  # the statistics' key: unit / grid cell id, or the area's id
    code: str
    name: str
    group: str


def subjects(scheme: AssessmentScheme) -> list[SubjectRef]:
    """Who the scheme assesses: the active units, grid cells or areas of the level inside its jurisdiction."""
    node = scheme.jurisdiction
    grouping = scheme.grouping
    if scheme.subject == Subject.UNIT:
        units = Unit.objects.filter(jurisdiction__path__startswith=node.path, is_active=True)
        types = list(scheme.unit_types.values_list("pk", flat=True))
        if types:
            units = units.filter(unit_type_id__in=types)
        rows = units.values_list("pk", "code", "name", "jurisdiction__name", "unit_type__name")
        return [
            SubjectRef(
                str(pk),
                code,
                name,
                where if grouping == Grouping.PARENT else kind if grouping == Grouping.UNIT_TYPE else "",
            )
            for pk, code, name, where, kind in rows
        ]
    if scheme.subject == Subject.GRID:
        cells = GridCell.objects.filter(community__path__startswith=node.path, is_active=True)
        return [
            SubjectRef(str(pk), code, name, community if grouping == Grouping.PARENT else "")
            for pk, code, name, community in cells.values_list("pk", "code", "name", "community__name")
        ]
    areas = Jurisdiction.objects.filter(
        path__startswith=node.path, level=scheme.area_level, is_active=True
    ).exclude(pk=node.pk)
    return [
        SubjectRef(str(pk), code, name, parent if grouping == Grouping.PARENT else "")
        for pk, code, name, parent in areas.values_list("pk", "code", "name", "parent__name")
    ]


def subject_counts(
    scheme: AssessmentScheme, refs: list[SubjectRef], period: Period, today: date
) -> dict[str, Counts]:
    if scheme.subject == Subject.AREA:
        by_node = figures.totals_by_node([int(r.key) for r in refs], period)
        return {str(pk): counts for pk, counts in by_node.items()}
    dim = Dim.UNIT if scheme.subject == Subject.UNIT else Dim.GRID
    rows = figures.breakdown(scheme.jurisdiction, period, today, dim)
    return {r.key: rows.get(r.key) or figures.zero() for r in refs}


def rules_of(scheme: AssessmentScheme) -> list[IndicatorRule]:
    return [
        IndicatorRule(
            rate=i.rate,
            weight=Fraction(str(i.weight)),
            target=percent(i.target),
            floor=None if i.floor is None else percent(i.floor),
            lower_is_better=RATE[i.rate].lower_is_better,
        )
        for i in scheme.indicators.all()
    ]


def weights_of(scheme: AssessmentScheme) -> dict[str, Fraction]:
    return {
        "basically_satisfied": Fraction(str(scheme.basically_satisfied_weight)),
        "partly_solved": Fraction(str(scheme.partly_solved_weight)),
    }


# --- The ranking -----------------------------------------------------------------------------------------


@dataclass
class Ranking:
    scheme: AssessmentScheme
    period: Period
    rules: list[IndicatorRule]
    entries: list[Entry]
    as_of: datetime | None  # the figures' refresh time (live) or the one the publication read
    published: AssessmentResult | None = None  # set when this is a published version

    @property
    def red(self) -> list[Entry]:
        return [e for e in self.entries if e.standing == "red"]

    @property
    def black(self) -> list[Entry]:
        return sorted(
            (e for e in self.entries if e.standing == "black"), key=lambda e: (-(e.rank or 0), e.code)
        )

    @property
    def grouped(self) -> bool:
        return any(e.group for e in self.entries)

    def link(self, entry: Entry, counter: str = "due") -> str | None:
        """The case list behind an entry's figure (the drill-down of the statistics pages)."""
        scheme = self.scheme
        if scheme.subject == Subject.AREA:
            area = Jurisdiction(pk=int(entry.key), code=entry.code)
            return Links(area, self.period).counter(counter)
        dim = Dim.UNIT if scheme.subject == Subject.UNIT else Dim.GRID
        return Links(scheme.jurisdiction, self.period).within(counter, dim, entry.code)


def build_ranking(scheme: AssessmentScheme, period: Period, today: date) -> Ranking:
    refs = subjects(scheme)
    counts = subject_counts(scheme, refs, period, today)
    rules, weights = rules_of(scheme), weights_of(scheme)
    entries = [
        judge(r.key, r.code, r.name, r.group, counts[r.key], rules, weights, scheme.min_due) for r in refs
    ]
    ordered = rank(
        entries,
        red_count=scheme.red_count,
        black_count=scheme.black_count,
        floor_to_black=scheme.floor_to_black,
    )
    state = StatsState.objects.filter(pk=1).first()
    return Ranking(scheme, period, rules, ordered, state.refreshed_at if state else None)


# --- Published versions ----------------------------------------------------------------------------------


def _fraction(text: str) -> Fraction | None:
    return Fraction(text) if text else None


def mark_json(m: Mark) -> dict[str, Any]:
    return {
        "rate": m.rate,
        "numerator": str(m.ratio.numerator),
        "denominator": m.ratio.denominator,
        "points": None if m.points is None else str(m.points),
        "weight": str(m.weight),
        "below_floor": m.below_floor,
    }


def mark_from_json(data: dict[str, Any]) -> Mark:
    return Mark(
        rate=data["rate"],
        ratio=Ratio(Fraction(data["numerator"]), int(data["denominator"])),
        points=None if data["points"] is None else Fraction(data["points"]),
        weight=Fraction(data["weight"]),
        below_floor=bool(data["below_floor"]),
    )


def rule_json(r: IndicatorRule) -> dict[str, Any]:
    return {
        "rate": r.rate,
        "weight": str(r.weight),
        "target": str(r.target),
        "floor": None if r.floor is None else str(r.floor),
        "lower_is_better": r.lower_is_better,
    }


def rule_from_json(data: dict[str, Any]) -> IndicatorRule:
    return IndicatorRule(
        rate=data["rate"],
        weight=Fraction(data["weight"]),
        target=Fraction(data["target"]),
        floor=None if data["floor"] is None else Fraction(data["floor"]),
        lower_is_better=bool(data["lower_is_better"]),
    )


def published_ranking(result: AssessmentResult) -> Ranking:
    """A published version as it was: its own snapshot of the scheme's indicators and its stored rows."""
    entries = []
    for row in result.rows.all():
        marks = [mark_from_json(m) for m in row.marks]
        entries.append(
            Entry(
                key=row.subject_key,
                code=row.code,
                name=row.name,
                group=row.group,
                counts=dict(row.counts),
                marks=marks,
                score=_fraction(row.score),
                rankable=row.rank is not None,
                rank=row.rank,
                standing=row.standing,
                below_floor=[m.rate for m in marks if m.below_floor],
            )
        )
    rules = [rule_from_json(r) for r in result.scheme_snapshot.get("indicators", [])]
    period = Period(result.period_first, result.period_last)
    return Ranking(result.scheme, period, rules, entries, result.figures_as_of, published=result)
