"""bench/stats.py's query sets — the dashboard and the monthly report by the rollups, by a plain scan of the
facts and by plain SQL over the cases — their timing, and the checks that the three agree."""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from _stats_data import DAYS
from intake import admin_connect

if TYPE_CHECKING:
    from civicgrid.jurisdictions.models import Jurisdiction

# The counters plain SQL over cases_case can compute (the others need the clocks, assignments, events or
# revisits, or the working calendar).
SQL_COUNTERS = (
    "received",
    "due",
    "registered",
    "dispatched",
    "returns",
    "returned",
    "extended",
    "escalated",
    "closed",
    "reworked",
    "reopened",
    "closed_in_period",
)


# --- The query sets ----------------------------------------------------------------------------------------

Item = tuple[str, Callable[[], Any]]


@dataclass
class Node:
    label: str
    jurisdiction: Jurisdiction
    children: list[Jurisdiction]


def _bounds(first: datetime.date, last: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The period's first and last days as an interval of aware times (local midnight to midnight)."""
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(first, datetime.time(), tzinfo=tz)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)
    return start, end


def _groups() -> tuple[str, str]:
    """The statuses of the dropped and the done groups, as SQL lists."""
    from civicgrid.cases.workflow import Group, in_group

    return tuple(", ".join(f"'{s}'" for s in in_group(g)) for g in (Group.DROPPED, Group.DONE))  # type: ignore[return-value]


def _sql_columns(dropped: str, done: str) -> list[str]:
    """The counters of SQL_COUNTERS as aggregates over cases_case rows; r: received in the period, c: closed
    in it (flags computed by the subquery)."""
    due = f"r AND status NOT IN ({dropped})"
    return [
        "count(*) FILTER (WHERE r)",
        f"count(*) FILTER (WHERE {due})",
        f"count(*) FILTER (WHERE {due} AND registered_at IS NOT NULL)",
        f"count(*) FILTER (WHERE {due} AND dispatched_at IS NOT NULL)",
        f"coalesce(sum(return_count) FILTER (WHERE {due}), 0)",
        f"count(*) FILTER (WHERE {due} AND return_count > 0)",
        f"count(*) FILTER (WHERE {due} AND extension_count > 0)",
        f"count(*) FILTER (WHERE {due} AND escalation_count > 0)",
        f"count(*) FILTER (WHERE r AND status IN ({done}))",
        f"count(*) FILTER (WHERE r AND status IN ({done}) AND rework_count > 0)",  # of the closed (facts.py)
        f"count(*) FILTER (WHERE {due} AND reopen_count > 0)",
        f"count(*) FILTER (WHERE c AND status IN ({done}))",
    ]


class PlainSQL:
    """The second peer: aggregates straight over cases_case (the case list's area rule: happened in the
    area, or owned by a desk in it), for the counts a case row holds."""

    def __init__(self) -> None:
        from civicgrid.stats.keys import Keys

        self.dropped, self.done = _groups()
        columns = _sql_columns(self.dropped, self.done)
        assert len(columns) == len(SQL_COUNTERS)
        assert SQL_COUNTERS[-1] == "closed_in_period"
        self.columns = ", ".join(columns)
        self.received_columns = ", ".join(columns[:-1])
        self.categories = Keys().categories

    def _rows(self, node: Jurisdiction, first: datetime.date, last: datetime.date, key: str) -> list[Any]:
        from django.db import connection

        start, end = _bounds(first, last)
        sql = (
            f"SELECT {key}, {self.columns} FROM ("
            "SELECT *, received_at >= %(a)s AND received_at < %(b)s AS r, "
            "closed_at >= %(a)s AND closed_at < %(b)s AS c FROM cases_case "
            "WHERE (origin_path LIKE %(p)s OR level_path LIKE %(p)s) "
            "AND ((received_at >= %(a)s AND received_at < %(b)s) OR (closed_at >= %(a)s AND closed_at < %(b)s))"
            f") AS x GROUP BY 1"
        )
        with connection.cursor() as cur:
            cur.execute(sql, {"a": start, "b": end, "p": node.path + "%"})
            return list(cur.fetchall())

    def totals(self, node: Jurisdiction, first: datetime.date, last: datetime.date) -> dict[str, int]:
        rows = self._rows(node, first, last, "1")
        return (
            dict(zip(SQL_COUNTERS, map(int, rows[0][1:]), strict=True))
            if rows
            else dict.fromkeys(SQL_COUNTERS, 0)
        )

    def series(
        self, node: Jurisdiction, first: datetime.date, last: datetime.date
    ) -> dict[datetime.date, dict[str, int]]:
        """Per month: the cohort counters by the month of receipt, the closings by the month of closing."""
        from django.db import connection

        from civicgrid.stats.figures import Period

        out = {m: dict.fromkeys(SQL_COUNTERS, 0) for m in Period(first, last).month_starts()}
        start, end = _bounds(first, last)
        month = "date_trunc('month', {} AT TIME ZONE 'Asia/Shanghai')::date"
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {month.format('received_at')}, {self.received_columns} FROM (SELECT *, true AS r FROM cases_case "
                "WHERE (origin_path LIKE %(p)s OR level_path LIKE %(p)s) AND received_at >= %(a)s "
                "AND received_at < %(b)s) AS x GROUP BY 1",
                {"a": start, "b": end, "p": node.path + "%"},
            )
            for m, *values in cur.fetchall():
                out[m].update(zip(SQL_COUNTERS[:-1], map(int, values), strict=True))
            cur.execute(
                f"SELECT {month.format('closed_at')}, count(*) FROM cases_case "
                "WHERE (origin_path LIKE %(p)s OR level_path LIKE %(p)s) AND closed_at >= %(a)s "
                f"AND closed_at < %(b)s AND status IN ({self.done}) GROUP BY 1",
                {"a": start, "b": end, "p": node.path + "%"},
            )
            for m, n in cur.fetchall():
                out[m]["closed_in_period"] = int(n)
        return out

    def breakdown(
        self, node: Jurisdiction, first: datetime.date, last: datetime.date, dim: str
    ) -> dict[str, dict[str, int]]:
        column = {
            "category": "category_id",
            "channel": "channel",
            "nature": "nature",
            "unit": "lead_unit_id",
            "grid": "grid_cell_id",
        }[dim]
        out: dict[str, dict[str, int]] = {}
        for key, *values in self._rows(node, first, last, column):
            if key is None:
                continue
            keys = self.categories.get(key, (key,)) if dim == "category" else (key,)
            for k in keys:
                target = out.setdefault(str(k), dict.fromkeys(SQL_COUNTERS, 0))
                for c, v in zip(SQL_COUNTERS, values, strict=True):
                    target[c] += int(v)
        return out


def month_periods(today: datetime.date) -> tuple[Any, Any, Any]:
    """This month, last month, and the 13 months up to this one."""
    from civicgrid.stats.figures import Period, add_months

    this = Period.month(today.year, today.month)
    last = this.previous()
    series = Period(add_months(this.first, -12), this.last)
    return this, last, series


class Paths:
    """The same query by the rollups (``path`` "rollup"), by scanning the fact rows ("scan"), or by plain SQL
    over the cases ("sql": the counts it can compute, no durations)."""

    def __init__(self, path: str, today: datetime.date, sql: PlainSQL | None = None) -> None:
        assert path in ("rollup", "scan", "sql")
        assert path != "sql" or sql is not None
        self.path, self.today, self.sql = path, today, sql

    def totals(self, n: Jurisdiction, p: Any) -> Callable[[], Any]:
        from civicgrid.stats import figures as f

        if self.path == "rollup":
            return partial(f.totals, n, p, self.today)
        if self.path == "scan":
            return partial(f.scan_totals, n, p)
        assert self.sql is not None
        return partial(self.sql.totals, n, p.first, p.last)

    def series(self, n: Jurisdiction, p: Any) -> Callable[[], Any]:
        from civicgrid.stats import figures as f

        if self.path == "rollup":
            return partial(f.monthly_series, n, p)
        if self.path == "scan":
            return partial(_scan_series, n, p)
        assert self.sql is not None
        return partial(self.sql.series, n, p.first, p.last)

    def breakdown(self, n: Jurisdiction, p: Any, dim: str) -> Callable[[], Any]:
        from civicgrid.stats import figures as f

        if self.path == "rollup":
            return partial(f.breakdown, n, p, self.today, dim)
        if self.path == "scan":
            return partial(f.scan_breakdown, n, p, dim)
        assert self.sql is not None
        return partial(self.sql.breakdown, n, p.first, p.last, dim)

    def children(self, kids: list[Jurisdiction], p: Any) -> Callable[[], Any]:
        parts = [(c.pk, self.totals(c, p)) for c in kids]
        return lambda: {pk: fn() for pk, fn in parts}

    def durations(self, n: Jurisdiction, p: Any) -> list[Item]:
        from civicgrid.stats import figures as f

        if self.path == "rollup":
            return [("durations", partial(f.durations, n, p, self.today))]
        if self.path == "scan":
            return [("durations", partial(_scan_durations, n, p))]
        return []  # plain SQL has no working calendar


def dashboard(node: Node, paths: Paths) -> list[Item]:
    """The current month's dashboard: totals with 环比 and 同比, the 13-month series, every breakdown, the
    child areas' totals, durations."""
    from civicgrid.stats.definitions import Dim

    this, _, series = month_periods(paths.today)
    n = node.jurisdiction
    items: list[Item] = [
        ("totals, this month", paths.totals(n, this)),
        ("totals, the month before (环比)", paths.totals(n, this.previous())),
        ("totals, the month last year (同比)", paths.totals(n, this.year_before())),
        ("monthly series, 13 months", paths.series(n, series)),
    ]
    items += [(f"breakdown by {dim}", paths.breakdown(n, this, dim)) for dim in Dim]
    items.append((f"totals of the {len(node.children)} child areas", paths.children(node.children, this)))
    return items + paths.durations(n, this)


def monthly_report(node: Node, paths: Paths) -> list[Item]:
    """Last month's report: totals with 环比 and 同比, breakdowns by category and unit, the child areas,
    durations."""
    from civicgrid.stats.definitions import Dim

    _, month, _ = month_periods(paths.today)
    n = node.jurisdiction
    items: list[Item] = [
        ("totals, last month", paths.totals(n, month)),
        ("totals, the month before (环比)", paths.totals(n, month.previous())),
        ("totals, the month a year before (同比)", paths.totals(n, month.year_before())),
    ]
    items += [(f"breakdown by {dim}", paths.breakdown(n, month, dim)) for dim in (Dim.CATEGORY, Dim.UNIT)]
    items.append((f"totals of the {len(node.children)} child areas", paths.children(node.children, month)))
    return items + paths.durations(n, month)


def _scan_durations(n: Jurisdiction, period: Any) -> Any:
    from fractions import Fraction

    from civicgrid.stats import figures as f

    counts = f.scan_totals(n, period)
    timed = counts["timed"]
    average = Fraction(counts["handling_minutes"], timed * 60) if timed else None
    return f.Durations(timed, average, f.median_of(f.scan_histogram(n, period)))


def _scan_series(n: Jurisdiction, period: Any) -> dict[datetime.date, dict[str, int]]:
    from civicgrid.stats import figures as f

    return {
        m: f.scan_totals(n, f.Period(max(m, period.first), min(f.month_end(m), period.last)))
        for m in period.month_starts()
    }


# --- Timing ------------------------------------------------------------------------------------------------


@dataclass
class Timed:
    reps: int
    total: list[float]
    items: dict[str, list[float]]
    results: dict[str, Any]  # of the unmeasured first run


def run_set(items: list[Item], reps: int) -> Timed:
    """One unmeasured run (warms the caches; its results are kept), then ``reps`` measured ones, each item
    timed inside the run."""
    results = {name: fn() for name, fn in items}
    total: list[float] = []
    per: dict[str, list[float]] = {name: [] for name, _ in items}
    for _ in range(reps):
        started = time.perf_counter()
        for name, fn in items:
            t0 = time.perf_counter()
            fn()
            per[name].append(time.perf_counter() - t0)
        total.append(time.perf_counter() - started)
    return Timed(reps, total, per, results)


def pct(values: list[float], q: float) -> float:
    """The nearest-rank percentile (of 30 values, p95 is the 29th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def stat3(values: list[float]) -> str:
    return f"{ms(pct(values, 0.5))} / {ms(pct(values, 0.95))} / {ms(max(values))}"


# --- Checks: the bench refuses to report wrong figures -------------------------------------------------------


def _nonzero(value: Any) -> Any:
    """Breakdowns without keys whose counters are all zero (neither side needs to list them)."""
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        return {
            k: _nonzero(v)
            for k, v in value.items()
            if not (all(isinstance(x, int) for x in v.values()) and not any(v.values()))
        }
    return value


def _subset(value: Any) -> Any:
    """The SQL_COUNTERS of a result of the rollup path (to compare with plain SQL)."""
    if isinstance(value, dict) and "received" in value:
        return {c: value[c] for c in SQL_COUNTERS}
    if isinstance(value, dict):
        return {
            (str(k) if not isinstance(k, datetime.date | int) else k): _subset(v) for k, v in value.items()
        }
    return value


def compare(label: str, rollup: dict[str, Any], other: dict[str, Any], subset: bool = False) -> list[str]:
    """Differences between two runs of a set (item by item)."""
    problems = []
    for name, value in other.items():
        mine = rollup[name]
        if subset:
            mine = _subset(mine)
            value = (
                {k: v for k, v in value.items() if any(v.values())} if name.startswith("breakdown") else value
            )
            mine = (
                {k: v for k, v in mine.items() if any(v.values())} if name.startswith("breakdown") else mine
            )
        if _nonzero(mine) != _nonzero(value):
            problems.append(f"{label}, {name}: rollups {_short(mine)} ≠ {_short(value)}")
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 400 else text[:400] + "…"


def sanity(nodes: list[Node], community: Jurisdiction, today: datetime.date) -> tuple[list[str], int]:
    """totals = scan_totals for four nodes and several periods, narrowed totals too; returns the problems
    and the number of comparisons."""
    from civicgrid.cases.models import Category
    from civicgrid.stats import figures as f
    from civicgrid.stats.definitions import Dim

    this, last, series = month_periods(today)
    periods = [
        this,
        last,
        this.year_before(),
        series,
        f.Period.quarter(last.first.year, (last.first.month - 1) // 3 + 1),
        f.Period(last.first + datetime.timedelta(days=9), today),  # an odd run of days across a month's end
        f.Period(today - datetime.timedelta(days=DAYS - 1), today),  # everything
    ]
    problems, checks = [], 0
    top = str(Category.objects.filter(depth=1).order_by("path").values_list("pk", flat=True).first())
    for j in [n.jurisdiction for n in nodes] + [community]:
        for p in periods:
            checks += 1
            a, b = f.totals(j, p, today), f.scan_totals(j, p)
            if a != b:
                problems.append(f"totals ≠ scan_totals for {j.name} {p}: {_short(a)} vs {_short(b)}")
        narrowed = [(Dim.CATEGORY, top), (Dim.CHANNEL, "hotline"), (Dim.NATURE, "complaint")]
        unit = f.breakdown(j, last, today, Dim.UNIT)
        if unit:
            narrowed.append((Dim.UNIT, max(unit, key=lambda k: unit[k]["received"])))
        grid = f.breakdown(j, last, today, Dim.GRID)
        if grid:
            narrowed.append((Dim.GRID, max(grid, key=lambda k: grid[k]["received"])))
        for dim, key in narrowed:
            for p in (last, f.Period(last.first + datetime.timedelta(days=9), today)):
                checks += 1
                a, b = f.totals(j, p, today, dim, key), f.scan_totals(j, p, dim, key)
                if a != b:
                    problems.append(
                        f"totals ≠ scan_totals for {j.name} {p} {dim}={key}: {_short(a)} vs {_short(b)}"
                    )
    return problems, checks


def whole_city(url: str, city: Jurisdiction, today: datetime.date) -> list[str]:
    """Every case counts once in the city, and every case has its fact."""
    from civicgrid.stats import figures as f

    with admin_connect(url) as conn:
        cases = int(conn.execute("SELECT count(*) FROM cases_case").fetchone()[0])
        facts = int(conn.execute("SELECT count(*) FROM stats_casefact").fetchone()[0])
        first = conn.execute("SELECT min(received_day) FROM stats_casefact").fetchone()[0]
    counted = f.totals(city, f.Period(first, today), today)["received"]
    problems = []
    if facts != cases:
        problems.append(f"{facts:,} facts for {cases:,} cases")
    if counted != cases:
        problems.append(f"the city counts {counted:,} cases received, the table holds {cases:,}")
    return problems


# --- Assessment rankings ----------------------------------------------------------------------------------

# (code, subject, area level, rules as (rate, weight, target %, floor %)); the jurisdiction is given per use.
SCHEMES: list[tuple[str, str, str, list[tuple[str, int, str, str | None]]]] = [
    (
        "bench-units",
        "unit",
        "",
        [
            ("response_rate", 30, "100", None),
            ("resolution_rate", 35, "100", None),
            ("satisfaction_rate", 35, "95", "80"),
        ],
    ),
    (
        "bench-grids",
        "grid",
        "",
        [("on_time_close_rate", 50, "95", None), ("satisfaction_rate", 50, "95", None)],
    ),
    (
        "bench-streets",
        "area",
        "township",
        [
            ("close_rate", 25, "100", None),
            ("on_time_close_rate", 25, "90", "30"),
            ("timely_accept_rate", 10, "100", None),
            ("satisfaction_rate", 30, "95", "70"),
            ("return_rate", 10, "5", "20"),
        ],
    ),
]


def schemes(city: Jurisdiction, district: Jurisdiction) -> list[Any]:
    """The assessment schemes ranked by the bench (made once through the actions, found by code after)."""
    from decimal import Decimal

    from civicgrid.assessment import actions
    from civicgrid.assessment.models import AssessmentScheme, Indicator

    out = []
    for code, subject, level, rules in SCHEMES:
        where = district if subject == "area" else city
        scheme = AssessmentScheme.objects.filter(code=code).first()
        if scheme is None:
            scheme = actions.do_save_scheme(
                AssessmentScheme(
                    code=code, name=code, jurisdiction=where, subject=subject, area_level=level, min_due=5
                ),
                actor=None,
            )
            for order, (rate, weight, target, floor) in enumerate(rules):
                actions.do_save_indicator(
                    Indicator(
                        scheme=scheme,
                        rate=rate,
                        weight=Decimal(weight),
                        target=Decimal(target),
                        floor=None if floor is None else Decimal(floor),
                        order=order,
                    ),
                    actor=None,
                )
        out.append(scheme)
    return out


def scanned_ranking(scheme: Any, period: Any, today: datetime.date) -> Any:
    """The peer of ``build_ranking``: the same subjects, scoring and lists, the figures from a plain scan of
    the fact rows instead of the rollups."""
    from civicgrid.assessment.ranking import Ranking, rules_of, subjects, weights_of
    from civicgrid.assessment.scoring import judge, rank
    from civicgrid.jurisdictions.models import Jurisdiction
    from civicgrid.stats import figures as f

    refs = subjects(scheme)
    if scheme.subject == "area":
        nodes = {n.pk: n for n in Jurisdiction.objects.filter(pk__in=[int(r.key) for r in refs])}
        counts = {r.key: f.scan_totals(nodes[int(r.key)], period) for r in refs}
    else:
        rows = f.scan_breakdown(scheme.jurisdiction, period, scheme.subject)
        counts = {r.key: rows.get(r.key) or f.zero() for r in refs}
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
    return Ranking(scheme, period, rules, ordered, None)


def ranking_items(scheme: Any, today: datetime.date, scan: bool) -> list[Item]:
    """Last month's ranking of a scheme, by the rollups (the page's path) or by the scan."""
    from civicgrid.assessment.ranking import build_ranking

    _, month, _ = month_periods(today)
    fn = (
        partial(scanned_ranking, scheme, month, today)
        if scan
        else partial(build_ranking, scheme, month, today)
    )
    return [("ranking", fn)]


def same_ranking(a: Any, b: Any) -> bool:
    """Two rankings agree on every subject's figures, score, rank and standing."""
    return [(e.code, e.counts, e.score, e.rank, e.standing) for e in a.entries] == [
        (e.code, e.counts, e.score, e.rank, e.standing) for e in b.entries
    ]
