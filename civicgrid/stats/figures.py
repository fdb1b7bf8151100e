"""Reading the figures: totals, breakdowns, series, medians and comparisons for an area node and a period.

Which table answers (all give the same numbers; tests/stats prove it):
- totals of an area for any run of days: ``DailyFigures`` (one row per day);
- a breakdown, or totals narrowed to one category / channel / nature / unit / grid cell, for whole months
  (or a month so far): ``MonthlyFigures``;
- the median handling time for whole months: ``MonthlyDuration``;
- anything else (a breakdown over an odd run of days, the median of a narrowed slice): a scan of the fact
  rows of the area and period (``scan_*``), which is also the "plain full scan" bench/stats.py times.
"""

from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum

from civicgrid.cases.models import Category
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.stats.definitions import CLOSED_COUNTERS, COUNTER_CODES, RATE, RECEIVED_COUNTERS, Dim
from civicgrid.stats.keys import Keys
from civicgrid.stats.models import CaseFact, DailyFigures, MonthlyDuration, MonthlyFigures
from civicgrid.stats.refresh import fact_from_row

Counts = dict[str, int]


def zero() -> Counts:
    return dict.fromkeys(COUNTER_CODES, 0)


# --- Periods ---------------------------------------------------------------------------------------------


def month_end(day: date) -> date:
    return day.replace(day=_calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    """A run of whole days, ``first`` to ``last`` inclusive (Asia/Shanghai days)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a period ends on or after its first day")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        return cls(first, month_end(first))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = date(year, 3 * quarter - 2, 1)
        return cls(first, month_end(add_months(first, 2)))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def months(self) -> int | None:
        """How many calendar months it spans when it is whole months, else None."""
        if self.first.day != 1 or self.last != month_end(self.last):
            return None
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def whole_months_until(self, today: date) -> bool:
        """Whole months, or whole months up to a last month that is still running (nothing is counted after
        today, so the month so far is the month)."""
        return self.first.day == 1 and (self.last == month_end(self.last) or self.last >= today)

    def previous(self) -> Period:
        """环比: the period of the same length right before (whole months: the same number of months)."""
        months = self.months
        if months is not None:
            first = add_months(self.first, -months)
            return Period(first, month_end(add_months(first, months - 1)))
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def year_before(self) -> Period:
        """同比: the same dates one year earlier."""
        if self.months is not None:
            return Period(_year_before(self.first), month_end(_year_before(self.last)))
        return Period(_year_before(self.first), _year_before(self.last))

    def month_starts(self) -> list[date]:
        out, day = [], self.first.replace(day=1)
        while day <= self.last:
            out.append(day)
            day = add_months(day, 1)
        return out


# --- Rates and comparisons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """A rate with its numerator and denominator (a weighted numerator may be a fraction)."""

    numerator: Fraction
    denominator: int

    @property
    def value(self) -> Fraction | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        value = self.value
        return None if value is None else float(value * 100)


def rate(counts: Mapping[str, int], code: str, weights: Mapping[str, Fraction] | None = None) -> Ratio:
    """The rate ``code`` (definitions.RATES) of these counts; ``weights`` give the share of each weighted
    part that counts (an assessment scheme's, e.g. basically satisfied × 0.8), 1 when not given."""
    r = RATE[code]
    # Whole counts are summed as integers: a ranking of 5,000 grid cells computes 10,000 rates, and
    # Fraction arithmetic was most of its time. Only a weighted part needs a fraction.
    whole = 0
    weighted = Fraction(0)
    for c in r.numerator:
        weight = weights.get(c) if weights and c in r.weighted else None
        if weight is None or weight == 1:
            whole += counts[c]
        else:
            weighted += counts[c] * weight
    return Ratio(weighted + whole if weighted else Fraction(whole), counts[r.denominator])


@dataclass(frozen=True)
class Change:
    """A figure against its base (same period last year, or the period before): workflow.md §9."""

    value: Fraction | None
    base: Fraction | None
    diff: Fraction | None
    rate: Fraction | None  # (value − base) / base; None when the base is 0 or missing
    rise: bool | None

    @classmethod
    def of(cls, value: Fraction | int | None, base: Fraction | int | None) -> Change:
        if value is None or base is None:
            return cls(_f(value), _f(base), None, None, None)
        v, b = Fraction(value), Fraction(base)
        return cls(v, b, v - b, (v - b) / b if b else None, v > b if v != b else None)


def _f(x: Fraction | int | None) -> Fraction | None:
    return None if x is None else Fraction(x)


# --- Reading the rollups ---------------------------------------------------------------------------------


def _sums(qs: QuerySet[Any]) -> Counts:
    row = qs.aggregate(**{c: Sum(c) for c in COUNTER_CODES})
    return {c: int(row[c] or 0) for c in COUNTER_CODES}


def totals(
    node: Jurisdiction, period: Period, today: date, dim: str | None = None, key: str | None = None
) -> Counts:
    """The counters of the node's area for the period, optionally narrowed to one breakdown key."""
    if dim is None:
        return _sums(
            DailyFigures.objects.filter(node_id=node.pk, day__gte=period.first, day__lte=period.last)
        )
    if period.whole_months_until(today):
        return _sums(
            MonthlyFigures.objects.filter(
                node_id=node.pk, dim=dim, key=key, month__gte=period.first, month__lte=period.last
            )
        )
    return scan_totals(node, period, dim, key)


def breakdown(node: Jurisdiction, period: Period, today: date, dim: str) -> dict[str, Counts]:
    """The counters per key of ``dim`` (category: every category, at every depth)."""
    if not period.whole_months_until(today):
        return scan_breakdown(node, period, dim)
    rows = (
        MonthlyFigures.objects.filter(
            node_id=node.pk, dim=dim, month__gte=period.first, month__lte=period.last
        )
        .values("key")
        .annotate(**{f"s_{c}": Sum(c) for c in COUNTER_CODES})
        .order_by()
    )
    out = {r["key"]: {c: int(r[f"s_{c}"] or 0) for c in COUNTER_CODES} for r in rows}
    # A case that moved to another key (another lead unit) leaves its old row at zero: not a row to show.
    return {key: counts for key, counts in out.items() if any(counts.values())}


def monthly_series(
    node: Jurisdiction, period: Period, dim: str | None = None, key: str | None = None
) -> dict[date, Counts]:
    """Totals per calendar month of the period (from the daily rows: partial first or last months too);
    narrowed to one breakdown key, whole months from the monthly rows and partial ones by a scan."""
    out: dict[date, Counts] = {m: zero() for m in period.month_starts()}
    if dim is not None:
        whole = [m for m in out if period.first <= m and month_end(m) <= period.last]
        monthly = MonthlyFigures.objects.filter(
            node_id=node.pk, dim=dim, key=key, month__in=whole
        ).values_list("month", *COUNTER_CODES)
        for month, *values in monthly:
            out[month] = dict(zip(COUNTER_CODES, values, strict=True))
        for m in out:
            if m not in whole:
                out[m] = scan_totals(
                    node, Period(max(m, period.first), min(month_end(m), period.last)), dim, key
                )
        return out
    rows = DailyFigures.objects.filter(
        node_id=node.pk, day__gte=period.first, day__lte=period.last
    ).values_list("day", *COUNTER_CODES)
    for day, *values in rows:
        target = out[day.replace(day=1)]
        for c, v in zip(COUNTER_CODES, values, strict=True):
            target[c] += v
    return out


def daily_series(node: Jurisdiction, period: Period) -> dict[date, Counts]:
    out: dict[date, Counts] = {period.first + timedelta(days=i): zero() for i in range(period.days)}
    rows = DailyFigures.objects.filter(
        node_id=node.pk, day__gte=period.first, day__lte=period.last
    ).values_list("day", *COUNTER_CODES)
    for day, *values in rows:
        out[day] = dict(zip(COUNTER_CODES, values, strict=True))
    return out


@dataclass(frozen=True)
class Durations:
    """Handling time of the cases closed in the period (not those answered directly), in working hours."""

    cases: int
    average_hours: Fraction | None  # exact: summed working minutes / cases / 60
    median_hours: Fraction | None  # the median of whole working hours (rounded down per case)


def durations(
    node: Jurisdiction,
    period: Period,
    today: date,
    counts: Counts | None = None,
    dim: str | None = None,
    key: str | None = None,
) -> Durations:
    counts = counts if counts is not None else totals(node, period, today, dim, key)
    timed = counts["timed"]
    average = Fraction(counts["handling_minutes"], timed * 60) if timed else None
    if dim is None and period.whole_months_until(today):
        histogram: dict[int, int] = defaultdict(int)
        for hours, n in MonthlyDuration.objects.filter(
            node_id=node.pk, month__gte=period.first, month__lte=period.last
        ).values_list("hours", "cases"):
            histogram[hours] += n
    else:
        # The histogram is kept per area, not per breakdown key: a narrowed median counts the facts (in SQL,
        # a row per whole hour).
        histogram = scan_histogram(node, period, dim, key)
    return Durations(timed, average, median_of(histogram))


def median_of(histogram: Mapping[int, int]) -> Fraction | None:
    """The median of a multiset given as value → count (the mean of the two middle values when even)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    lower, upper = (n - 1) // 2, n // 2  # 0-based ranks of the middle value(s)
    seen, low_value = 0, None
    for value in sorted(histogram):
        count = histogram[value]
        if low_value is None and seen + count > lower:
            low_value = value
        if seen + count > upper:
            assert low_value is not None
            return Fraction(low_value + value, 2)
        seen += count
    raise AssertionError("unreachable")  # pragma: no cover


# --- The plain scan of the fact rows ----------------------------------------------------------------------


def area_facts(node: Jurisdiction) -> QuerySet[CaseFact]:
    """The facts of the cases in the node's area: happened there or owned by a desk there."""
    subtree = Jurisdiction.objects.filter(path__startswith=node.path).values("pk")
    return CaseFact.objects.filter(Q(origin_id__in=subtree) | Q(owner_id__in=subtree))


def _narrow(qs: QuerySet[CaseFact], dim: str | None, key: str | None) -> QuerySet[CaseFact]:
    if dim is None:
        return qs
    if dim == Dim.CATEGORY:
        category = Category.objects.filter(pk=int(key or 0)).values_list("path", flat=True).first()
        return qs.filter(
            category_id__in=Category.objects.filter(path__startswith=category or "\0").values("pk")
        )
    column = {
        Dim.CHANNEL: "channel",
        Dim.NATURE: "nature",
        Dim.UNIT: "lead_unit_id",
        Dim.GRID: "grid_cell_id",
    }[Dim(dim)]
    return qs.filter(**{column: key})


def scan_totals(node: Jurisdiction, period: Period, dim: str | None = None, key: str | None = None) -> Counts:
    """The same counters as ``totals``, by aggregating the fact rows (two aggregates: one per axis)."""
    facts = _narrow(area_facts(node), dim, key)
    out = zero()
    received = facts.filter(received_day__gte=period.first, received_day__lte=period.last).aggregate(
        **{c: Sum(c) for c in RECEIVED_COUNTERS}
    )
    out.update({c: int(received[c] or 0) for c in RECEIVED_COUNTERS})
    out.update(_closed_counts(facts.filter(closed_day__gte=period.first, closed_day__lte=period.last)))
    return out


def _closed_counts(qs: QuerySet[CaseFact]) -> Counts:
    row = qs.aggregate(
        closed_in_period=Count("pk"),
        closed_in_period_on_time=Sum("closed_on_time"),
        timed=Count("handling_minutes"),
        handling_minutes=Sum("handling_minutes"),
    )
    assert set(row) == set(CLOSED_COUNTERS)
    return {c: int(row[c] or 0) for c in CLOSED_COUNTERS}


def scan_breakdown(node: Jurisdiction, period: Period, dim: str) -> dict[str, Counts]:
    """``breakdown`` by scanning the fact rows: each fact's keys (categories: with their ancestors)."""
    keys = Keys()
    out: dict[str, Counts] = defaultdict(zero)
    facts = area_facts(node).filter(
        Q(received_day__gte=period.first, received_day__lte=period.last)
        | Q(closed_day__gte=period.first, closed_day__lte=period.last)
    )
    for row in facts.iterator(chunk_size=2000):
        fact = fact_from_row(row)
        in_received = period.first <= fact.received_day <= period.last
        in_closed = fact.closed_day is not None and period.first <= fact.closed_day <= period.last
        for d, key in keys.dims(fact):
            if d != dim:
                continue
            target = out[key]
            if in_received:
                for c in RECEIVED_COUNTERS:
                    target[c] += fact.counts[c]
            if in_closed:
                target["closed_in_period"] += 1
                target["closed_in_period_on_time"] += fact.closed_on_time
                if fact.handling_minutes is not None:
                    target["timed"] += 1
                    target["handling_minutes"] += fact.handling_minutes
    return dict(out)


def scan_histogram(
    node: Jurisdiction, period: Period, dim: str | None = None, key: str | None = None
) -> dict[int, int]:
    """Cases closed in the period after handling, per whole working hour (counted in the database: one row
    per hour, not one per case; the minutes are never negative, so SQL's division rounds down like ``//``)."""
    rows = (
        _narrow(area_facts(node), dim, key)
        .filter(closed_day__gte=period.first, closed_day__lte=period.last, handling_minutes__isnull=False)
        .annotate(hours=F("handling_minutes") / 60)
        .values("hours")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {int(r["hours"]): int(r["n"]) for r in rows}


def totals_by_node(node_ids: list[int], period: Period) -> dict[int, Counts]:
    """``totals`` of many area nodes at once (one query over the daily rows): the areas of an assessment."""
    out = {pk: zero() for pk in node_ids}
    rows = (
        DailyFigures.objects.filter(node_id__in=node_ids, day__gte=period.first, day__lte=period.last)
        .values("node_id")
        .annotate(**{f"s_{c}": Sum(c) for c in COUNTER_CODES})
        .order_by()
    )
    for row in rows:
        out[row["node_id"]] = {c: int(row[f"s_{c}"] or 0) for c in COUNTER_CODES}
    return out
