"""The periodic report of an area (月报 / 季报): its figures against last year and the period before, the
breakdowns behind them, and the sentences a report writer would put on top ("全区共受理群众诉求 1991 件 …").

``build_report`` gathers everything from the rollups (figures.py) in a fixed number of queries, whatever
the size of the area; ``sentences`` words it. The page, the printable HTML and the .xlsx export all render
the same ``Report``, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from civicgrid.cases.models import Category, Channel, Nature
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.stats import figures
from civicgrid.stats.definitions import Dim
from civicgrid.stats.figures import Change, Counts, Durations, Period, Ratio, add_months, rate

TOP = 5  # categories named in the sentences


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: what it is, its counts now and a year before."""

    key: str
    name: str
    counts: Counts
    year_before: Counts
    code: str = ""  # how the case list names it (category, unit and cell codes); "" when it cannot

    def rate(self, code: str) -> Ratio:
        return rate(self.counts, code)

    @property
    def received_change(self) -> Change:
        return Change.of(self.counts["received"], self.year_before["received"])


@dataclass(frozen=True)
class Slice:
    """A report narrowed to one key of a breakdown: one category (and the categories under it), one lead
    unit, one grid cell, one channel or one nature. ``key`` is the rollups' key, ``code`` the case list's."""

    dim: Dim
    key: str
    code: str
    name: str

    @property
    def label(self) -> str:
        return str(SLICE_LABELS[self.dim])


SLICE_LABELS = {
    Dim.CATEGORY: pgettext_lazy("statistics slice", "Category"),
    Dim.UNIT: pgettext_lazy("statistics slice", "Lead unit"),
    Dim.GRID: pgettext_lazy("statistics slice", "Grid cell"),
    Dim.CHANNEL: pgettext_lazy("statistics slice", "Channel"),
    Dim.NATURE: pgettext_lazy("statistics slice", "Nature"),
}


def resolve_slice(dim: str, code: str) -> Slice | None:
    """The slice a page's ``dim`` and ``key`` (the case list's code) name; None when there is no such key."""
    if dim not in Dim.__members__.values() or not code:
        return None
    d = Dim(dim)
    if d == Dim.CHANNEL:
        return Slice(d, code, code, str(Channel(code).label)) if code in Channel.values else None
    if d == Dim.NATURE:
        return Slice(d, code, code, str(Nature(code).label)) if code in Nature.values else None
    model = {Dim.CATEGORY: Category, Dim.UNIT: Unit, Dim.GRID: GridCell}[d]
    row = model.objects.filter(code=code).values_list("pk", "name").first()  # type: ignore[attr-defined]
    return Slice(d, str(row[0]), code, row[1]) if row else None


@dataclass(frozen=True)
class Report:
    node: Jurisdiction
    period: Period
    today: date
    counts: Counts
    previous: Counts  # 环比 base
    year_before: Counts  # 同比 base
    durations: Durations
    series: dict[date, Counts]  # the 13 months up to the period's last month
    categories: list[Row]  # the top-level classes, most received first; then the unclassified (key "")
    children: list[Row]  # the areas directly below, in code order
    units: list[Row]  # lead units, most received first
    channels: list[Row]
    natures: list[Row]
    narrowed: Slice | None = None  # narrowed to one key: the breakdowns of the other keys are not kept

    @property
    def area(self) -> str:
        """The area as the report names it: "天心区" or, narrowed, "天心区（问题分类：城乡建设）"."""
        if self.narrowed is None:
            return self.node.name
        return _("%(area)s (%(dim)s: %(name)s)") % {
            "area": self.node.name,
            "dim": self.narrowed.label,
            "name": self.narrowed.name,
        }

    def rate(self, code: str, base: str = "") -> Ratio:
        counts = {"": self.counts, "previous": self.previous, "year_before": self.year_before}[base]
        return rate(counts, code)

    def change(self, counter: str, against: str = "year_before") -> Change:
        base = self.year_before if against == "year_before" else self.previous
        return Change.of(self.counts[counter], base[counter])

    def rate_change(self, code: str, against: str = "year_before") -> Change:
        """The change of a rate, in points (a fraction of 1: ×100 for percentage points)."""
        return Change.of(self.rate(code).value, self.rate(code, against).value)

    @property
    def open_now(self) -> int:
        """Of the period's cases due for closing, those not closed yet (未办结)."""
        return self.counts["due"] - self.counts["closed"]


def build_report(node: Jurisdiction, period: Period, today: date, narrowed: Slice | None = None) -> Report:
    """The report of the node's area, or of one slice of it: figures, 同比 / 环比, the trend and the areas
    below narrowed the same way (the other breakdowns need a second key the rollups do not keep)."""
    dim, key = (narrowed.dim, narrowed.key) if narrowed else (None, None)
    counts = figures.totals(node, period, today, dim, key)
    previous = figures.totals(node, period.previous(), today, dim, key)
    year_before = figures.totals(node, period.year_before(), today, dim, key)
    last_month = period.last.replace(day=1)
    trend = Period(add_months(last_month, -12), period.last)
    whole = narrowed is None
    return Report(
        node=node,
        period=period,
        today=today,
        counts=counts,
        previous=previous,
        year_before=year_before,
        durations=figures.durations(node, period, today, counts, dim, key),
        series=figures.monthly_series(node, trend, dim, key),
        categories=_with_rest(
            _rows(node, period, today, Dim.CATEGORY, _top_categories()),
            counts,
            year_before,
            _("not classified"),
        )
        if whole
        # A class has its sub-classes in the same breakdown (every category counts under its ancestors).
        else _with_rest(
            _rows(node, period, today, Dim.CATEGORY, _sub_categories(narrowed.key)),
            counts,
            year_before,
            _("not classified further"),
        )
        if narrowed is not None and narrowed.dim == Dim.CATEGORY
        else [],
        children=_children(node, period, today, narrowed),
        units=_rows(node, period, today, Dim.UNIT, None) if whole else [],
        channels=_rows(node, period, today, Dim.CHANNEL, {c.value: str(c.label) for c in Channel})
        if whole
        else [],
        natures=_rows(node, period, today, Dim.NATURE, {c.value: str(c.label) for c in Nature})
        if whole
        else [],
        narrowed=narrowed,
    )


def _with_rest(rows: list[Row], counts: Counts, year_before: Counts, name: str) -> list[Row]:
    """The rows and, last, what they leave out (cases not classified yet), so the table adds up to the total:
    every classified case is under exactly one top-level class."""
    rest = Row(
        "",
        name,
        {c: counts[c] - sum(r.counts[c] for r in rows) for c in counts},
        {c: year_before[c] - sum(r.year_before[c] for r in rows) for c in year_before},
    )
    return [*rows, rest] if any(rest.counts.values()) or any(rest.year_before.values()) else rows


def _sub_categories(parent: str) -> dict[str, str]:
    return {
        str(pk): name for pk, name in Category.objects.filter(parent_id=int(parent)).values_list("pk", "name")
    }


def _top_categories() -> dict[str, str]:
    return {str(pk): name for pk, name in Category.objects.filter(parent=None).values_list("pk", "name")}


def _rows(
    node: Jurisdiction, period: Period, today: date, dim: Dim, names: dict[str, str] | None
) -> list[Row]:
    now = figures.breakdown(node, period, today, dim)
    before = figures.breakdown(node, period.year_before(), today, dim)
    keys = set(now) | set(before)
    if names is not None:
        keys &= set(names)
    else:
        names = _names(dim, keys)
    codes = _codes(dim, keys)
    rows = [
        Row(
            key,
            names.get(key, key),
            now.get(key, figures.zero()),
            before.get(key, figures.zero()),
            codes.get(key, ""),
        )
        for key in keys
    ]
    rows.sort(key=lambda r: (-r.counts["received"], -r.year_before["received"], r.name))
    return [
        r for r in rows if r.counts["received"] or r.counts["closed_in_period"] or r.year_before["received"]
    ]


def _codes(dim: Dim, keys: set[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    rows: Iterable[tuple[int, str]]
    if dim == Dim.CATEGORY:
        rows = Category.objects.filter(pk__in=ids).values_list("pk", "code")
    elif dim == Dim.UNIT:
        rows = Unit.objects.filter(pk__in=ids).values_list("pk", "code")
    elif dim == Dim.GRID:
        rows = GridCell.objects.filter(pk__in=ids).values_list("pk", "code")
    else:
        return {k: k for k in keys}  # channel and nature: the value is the code
    return {str(pk): code for pk, code in rows}


def _names(dim: Dim, keys: set[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    if dim == Dim.UNIT:
        return {str(pk): name for pk, name in Unit.objects.filter(pk__in=ids).values_list("pk", "name")}
    if dim == Dim.GRID:
        return {str(pk): name for pk, name in GridCell.objects.filter(pk__in=ids).values_list("pk", "name")}
    return {}


def _children(node: Jurisdiction, period: Period, today: date, narrowed: Slice | None) -> list[Row]:
    dim, key = (narrowed.dim, narrowed.key) if narrowed else (None, None)
    children = list(node.children.filter(is_active=True).order_by("code"))
    return [
        Row(
            child.code,
            child.name,
            figures.totals(child, period, today, dim, key),
            figures.totals(child, period.year_before(), today, dim, key),
            child.code,
        )
        for child in children
    ]


# --- The words --------------------------------------------------------------------------------------------


def _pct(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value * 100):.1f}%"


def _trend(change: Change) -> str:
    """ "up 12.5%" / "down 36.0%" / "unchanged" / "" (no base)."""
    if change.rate is None:
        return ""
    if change.rise is None:
        return _("unchanged")
    amount = f"{abs(float(change.rate * 100)):.1f}%"
    return (_("up %(amount)s") if change.rise else _("down %(amount)s")) % {"amount": amount}


def sentences(report: Report) -> list[str]:
    """The report's opening paragraph, sentence by sentence, from the figures alone."""
    c = report.counts
    out = [
        _(
            "%(area)s received %(received)s requests from the public in the period: %(direct)s answered "
            "directly, %(dispatched)s dispatched, %(closed_in_period)s closed in the period."
        )
        % {
            "area": report.area,
            "received": c["received"],
            "direct": c["direct"],
            "dispatched": c["dispatched"],
            "closed_in_period": c["closed_in_period"],
        }
    ]
    yoy, mom = _trend(report.change("received")), _trend(report.change("received", "previous"))
    if yoy or mom:
        parts = []
        if yoy:
            parts.append(_("%(trend)s on the same period last year") % {"trend": yoy})
        if mom:
            parts.append(_("%(trend)s on the period before") % {"trend": mom})
        out.append(_("The number of requests is %(parts)s.") % {"parts": _(", ").join(parts)})
    out.append(
        _(
            "Of the %(due)s requests due for closing, %(closed)s are closed (closing rate %(close_rate)s) and "
            "%(on_time)s were closed on time (on-time closing rate %(on_time_rate)s); %(open)s are still "
            "open, %(overdue)s of them overdue."
        )
        % {
            "due": c["due"],
            "closed": c["closed"],
            "close_rate": _pct(report.rate("close_rate").value),
            "on_time": c["closed_on_time"],
            "on_time_rate": _pct(report.rate("on_time_close_rate").value),
            "open": report.open_now,
            "overdue": c["overdue_open"],
        }
    )
    if c["revisited"]:
        out.append(
            _(
                "%(revisited)s residents answered a revisit: satisfaction rate %(satisfaction)s, resolution "
                "rate %(resolution)s; %(reopened)s requests were reopened."
            )
            % {
                "revisited": c["revisited"],
                "satisfaction": _pct(report.rate("satisfaction_rate").value),
                "resolution": _pct(report.rate("resolution_rate").value),
                "reopened": c["reopened"],
            }
        )
    d = report.durations
    if d.cases:
        out.append(
            _("Requests handled by a unit took %(average)s working hours on average (median %(median)s).")
            % {
                "average": f"{float(d.average_hours or 0):.1f}",
                "median": f"{float(d.median_hours or 0):g}",
            }
        )
    top = [r for r in report.categories if r.counts["received"] and r.key][:TOP]
    if top:
        named = _(", ").join(
            _("%(name)s (%(n)s, %(share)s)")
            % {
                "name": r.name,
                "n": r.counts["received"],
                "share": _pct(Fraction(r.counts["received"], c["received"])),
            }
            for r in top
        )
        out.append(_("The most frequent classes of request: %(named)s.") % {"named": named})
    return out
