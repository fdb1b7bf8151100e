"""Benchmark: the statistics' read path — a leaders' dashboard and the monthly report — over 10,000,000 cases,
beside the same figures computed by a plain full scan.

Run from the project root:  make bench-stats
(= .venv/bin/python bench/stats.py: a PostgreSQL cluster of its own in var/bench-stats, created on first use
with the settings of scripts/with-postgres.sh, started for the run and stopped after it; a second run reuses
the generated cases and the built statistics and only measures. ``--keep DIR`` puts the cluster elsewhere;
``--throwaway`` uses the server of DATABASE_URL instead (scripts/with-postgres.sh) and drops its database.)

Data (bench/_stats_data.py): migrate; a city of 9 real districts, ~100 streets, ~1,000 communities, ~5,000
grid cells, ~300 units and the portal's 15/118/517 category tree through the actions; then the cases in
set-based SQL with the clocks, assignments, events and revisits the statistics read; VACUUM ANALYZE. Then the
statistics are built by the real code, ``civicgrid.stats.refresh.do_rebuild`` (timed, statement by statement,
with the temporary files and the disk it used), and VACUUM ANALYZE of their tables.

Measured in this process (Django's connection, as a view would run them), warm (one unmeasured run first),
``--reps`` times each, for the city, a district (天心区) and a street (坡子街街道):

- **the dashboard** of the current month: ``totals`` for this month, the month before (环比) and the same
  month last year (同比), ``monthly_series`` of the last 13 months, ``breakdown`` by category, channel,
  nature, unit and grid cell, ``totals`` of each child area, ``durations`` — timed as one load and each
  query on its own;
- **the monthly report** of last month: ``totals`` for it, the month before and the same month last year,
  ``breakdown`` by category and unit, ``totals`` of each child area, ``durations``;
- beside each, **the plain full scan** of the fact rows (``figures.scan_totals`` / ``scan_breakdown`` /
  ``scan_histogram``), and **plain SQL over cases_case** (COUNT … FILTER over the receipt and closing
  times and the area rule on origin_path / level_path) for the counts it can compute, ``--peer-reps`` times.

The bench refuses to report wrong figures: it asserts that the rollups, the scan and the plain SQL give the
same numbers (every query of every set, and totals of several periods for four nodes) and that the city
counts every case once. EXPLAIN (ANALYZE, BUFFERS) of the slowest statements shows the indexes used.

The figures replace the "Statistics" section of docs/benchmarks.md (a full-size run only); notes written by
hand below the NOTES_MARKER line of that section are kept.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import math
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _stats_data import DAYS, GENERATOR, build_city, generate
from intake import admin_connect, db_url, machine, note_postmaster, python_speed
from open311 import postgres

if TYPE_CHECKING:
    from civicgrid.jurisdictions.models import Jurisdiction

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Statistics: dashboard and monthly report (bench/stats.py)"
NOTES_MARKER = "<!-- Notes below this line are written by hand; bench/stats.py keeps them. -->"
COMMAND = "make bench-stats"
DB_NAME = "bench_stats"
META_TABLE = "bench_stats_meta"
KEEP = ROOT / "var" / "bench-stats"

CASES = 10_000_000
SEED = 20260101
REPS = 30
PEER_REPS = 3
TARGET_MS = 300.0
DISTRICT = "430103"  # 天心区, the demo district
# Bytes of database per generated case, with the statistics and every index (4.0 GiB at 1,000,000 cases, of
# which the rollups — they grow slower than the cases — 1.3 GiB), and the share more the run needs at its
# peak (the generator's draws table, WAL).
BYTES_PER_CASE = 3500
DISK_MARGIN = 1.3
# work_mem of the rollup statements of do_rebuild (SET LOCAL). With the server's 4MB the monthly rollup's
# hash aggregate spills: at 1,000,000 cases it wrote 8 GB of temporary files (2.4 GB at once) and took 100 s
# instead of 58 s in 550 MB of memory; at 10,000,000 it would need more disk than this machine has free.
ROLLUP_WORK_MEM = "2GB"

CASE_TABLES = ["cases_case", "cases_caseclock", "cases_caseassignment", "cases_caseevent", "cases_revisit"]
STATS_TABLES = ["stats_casefact", "stats_dailyfigures", "stats_monthlyfigures", "stats_monthlyduration"]
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


def say(text: str) -> None:
    print(text, flush=True)


# --- The kept database ------------------------------------------------------------------------------------


def kept_meta(url: str) -> dict[str, str]:
    """What the database says about its load (empty: no database, or no complete load)."""
    import psycopg

    try:
        with admin_connect(url) as conn:
            rows = conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall()
    except psycopg.Error:
        return {}
    return {str(k): str(v) for k, v in rows}


def write_meta(url: str, values: dict[str, str]) -> None:
    with admin_connect(url) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value text NOT NULL)")
        for key, value in values.items():
            conn.execute(
                f"INSERT INTO {META_TABLE} VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def reusable(meta: dict[str, str], cases: int) -> bool:
    return (
        meta.get("generator") == GENERATOR
        and meta.get("cases") == str(cases)
        and meta.get("seed") == str(SEED)
        and "loaded_at" in meta
    )


def setup_django(url: str, var_dir: Path, meta: dict[str, str]) -> None:
    """Django on the bench database, migrated. The keys are kept in ``meta``: a kept database's encrypted
    values must stay readable."""
    meta.setdefault("secret_key", secrets.token_urlsafe(48))
    meta.setdefault("encryption_key", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    env = dict(os.environ)
    env.pop("CIVICGRID_TESTING", None)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="civicgrid.settings",
        DEBUG="0",
        SECRET_KEY=meta["secret_key"],
        FIELD_ENCRYPTION_KEY=meta["encryption_key"],
        ALLOWED_HOSTS="127.0.0.1",
        CIVICGRID_VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
    )
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    write_meta(url, {k: meta[k] for k in ("secret_key", "encryption_key")})


# --- The rebuild ------------------------------------------------------------------------------------------


@dataclass
class Rebuild:
    seconds: float
    facts_s: float
    rollups_s: float
    statements: dict[str, tuple[int, float]]  # kind → (count, seconds)
    temp_files: int
    temp_bytes: int
    disk_peak: int  # bytes of disk used at the peak beyond what was used before
    vacuum_s: float
    per_row_us: dict[str, float]  # the facts step per case: SQL fetch, Python, COPY (a sample)
    rollup_work_mem: str  # work_mem set for the rollup statements ("": the server's)
    chunk_plan: str  # EXPLAIN (ANALYZE, BUFFERS) of one chunk of the facts SELECT

    def as_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Rebuild:
        raw = json.loads(text)
        raw["statements"] = {k: tuple(v) for k, v in raw["statements"].items()}
        return cls(**raw)


def _kind(sql: str) -> str:
    """Which part of the rebuild a statement belongs to."""
    head = " ".join(sql.split())[:160]
    for needle, kind in (
        ("SELECT c.id, c.version", "facts: SELECT of the case rows (chunks of 5,000)"),
        ('INSERT INTO "stats_dailyfigures"', "rollups: INSERT … SELECT daily"),
        ('INSERT INTO "stats_monthlyfigures"', "rollups: INSERT … SELECT monthly"),
        ('INSERT INTO "stats_monthlyduration"', "rollups: INSERT … SELECT durations"),
        ("INSERT INTO stats_tmp", "rollups: key tables (executemany)"),
        ("SELECT DISTINCT", "rollups: (origin, owner) pairs"),
        ('DELETE FROM "cases_casechange"', "facts: journal clean-up"),
        ("TRUNCATE", "empty the tables"),
        ("SELECT COUNT(*)", "rollups: row counts"),
    ):
        if needle in head:
            return kind
    return "other"


class StatementTimer:
    """A Django execute wrapper: seconds per kind of statement. With ``rollup_work_mem`` it sets work_mem for
    the rest of the transaction (SET LOCAL) right before the rollup statements, the facts step keeping the
    server's setting."""

    def __init__(self, rollup_work_mem: str = "") -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.rollup_work_mem = rollup_work_mem

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.rollup_work_mem and sql.startswith("CREATE TEMPORARY TABLE stats_tmp_nodes"):
            execute(f"SET LOCAL work_mem = '{self.rollup_work_mem}'", None, False, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = _kind(sql)
            self.seconds[kind] += time.perf_counter() - started
            self.count[kind] += 1


@contextmanager
def disk_watch(path: Path) -> Iterator[list[int]]:
    """The most disk used beyond the start while the block runs (sampled every second)."""
    start = shutil.disk_usage(path).used
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            peak[0] = max(peak[0], shutil.disk_usage(path).used - start)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()
        peak[0] = max(peak[0], shutil.disk_usage(path).used - start)


def temp_usage(url: str) -> tuple[int, int]:
    with admin_connect(url) as conn:
        row = conn.execute(
            "SELECT temp_files, temp_bytes FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]), int(row[1])


def facts_sample(rows: int = 50_000) -> dict[str, float]:
    """Microseconds per case of the facts step's parts on a sample of cases (the same code as do_rebuild:
    the SELECT, ``fact_of``, the COPY into a temporary copy of the fact table)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from civicgrid.stats.facts import _SQL, fact_of
    from civicgrid.stats.models import CaseFact
    from civicgrid.stats.refresh import _write_facts
    from civicgrid.workcalendar.calendar import current_calendar

    calendar, tz = current_calendar(), timezone.get_default_timezone()
    with connection.cursor() as c:
        c.execute("SELECT (min(id) + max(id)) / 2 FROM cases_case")
        middle = int(c.fetchone()[0] or 0)
    out = {"SQL": 0.0, "Python (fact_of)": 0.0, "COPY": 0.0}
    n = 0
    last = middle
    with transaction.atomic():
        with connection.cursor() as c:
            # A copy of the table to COPY into (no foreign keys, no indexes but the key), dropped at the end.
            c.execute(f'CREATE TEMPORARY TABLE bench_facts (LIKE "{CaseFact._meta.db_table}")')
        while n < rows:
            started = time.perf_counter()
            with connection.cursor() as c:
                c.execute(f"{_SQL} WHERE c.id > %s ORDER BY c.id LIMIT %s", [last, 5000])
                raw = c.fetchall()
            out["SQL"] += time.perf_counter() - started
            if not raw:
                break
            started = time.perf_counter()
            chunk = [fact_of(row, calendar, tz) for row in raw]
            out["Python (fact_of)"] += time.perf_counter() - started
            started = time.perf_counter()
            table = CaseFact._meta.db_table
            CaseFact._meta.db_table = "bench_facts"
            try:
                _write_facts(chunk)
            finally:
                CaseFact._meta.db_table = table
            out["COPY"] += time.perf_counter() - started
            n += len(raw)
            last = raw[-1][0]
        transaction.set_rollback(True)
    return {k: v / max(n, 1) * 1e6 for k, v in out.items()}


def chunk_plan(url: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the facts SELECT for one chunk of 5,000 cases from the middle."""
    from civicgrid.stats.facts import _SQL

    with admin_connect(url) as conn:
        middle = int(conn.execute("SELECT (min(id) + max(id)) / 2 FROM cases_case").fetchone()[0] or 0)
        rows = conn.execute(
            f"EXPLAIN (ANALYZE, BUFFERS) {_SQL} WHERE c.id > {middle} ORDER BY c.id LIMIT 5000"
        )
        return "\n".join(r[0] for r in rows.fetchall())


def rebuild(url: str, where: Path, rollup_work_mem: str) -> Rebuild:
    from django.db import connection

    from civicgrid.stats.refresh import do_rebuild

    timer = StatementTimer(rollup_work_mem)
    files0, bytes0 = temp_usage(url)
    with disk_watch(where) as peak, connection.execute_wrapper(timer):
        started = time.perf_counter()
        report = do_rebuild(actor=None)
        seconds = time.perf_counter() - started
    connection.close()
    time.sleep(1.0)  # the statistics collector reports the temporary files a moment later
    files1, bytes1 = temp_usage(url)
    say(
        f"  do_rebuild: {seconds:.0f} s (facts {report.facts_seconds:.0f} s, rollups "
        f"{report.rollup_seconds:.0f} s); {report.daily_rows:,} daily, {report.monthly_rows:,} monthly, "
        f"{report.duration_rows:,} duration rows; temporary files {(bytes1 - bytes0) / 2**30:.1f} GiB; "
        f"disk peak +{peak[0] / 2**30:.1f} GiB"
    )
    for kind in sorted(timer.seconds, key=lambda k: -timer.seconds[k]):
        say(f"    {kind}: {timer.count[kind]:,} statements, {timer.seconds[kind]:.1f} s")
    started = time.perf_counter()
    with admin_connect(url) as conn:
        for table in STATS_TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
    vacuum = time.perf_counter() - started
    sample = facts_sample()
    say(
        "  facts step per case (a sample of 50,000): "
        + ", ".join(f"{k} {v:.1f} µs" for k, v in sample.items())
    )
    return Rebuild(
        seconds=seconds,
        facts_s=report.facts_seconds,
        rollups_s=report.rollup_seconds,
        statements={k: (timer.count[k], timer.seconds[k]) for k in timer.seconds},
        temp_files=files1 - files0,
        temp_bytes=bytes1 - bytes0,
        disk_peak=peak[0],
        vacuum_s=vacuum,
        per_row_us=sample,
        rollup_work_mem=rollup_work_mem,
        chunk_plan=chunk_plan(url),
    )


# --- Sizes -----------------------------------------------------------------------------------------------


@dataclass
class Sizes:
    rows: dict[str, int]
    table_bytes: dict[str, int]
    index_bytes: dict[str, int]
    database_bytes: int
    shape: dict[str, int]  # the city's figures over the whole span: what the data looks like
    nodes: dict[str, int]  # jurisdictions per level, units, categories, grid cells


def sizes(url: str, city: Jurisdiction, today: datetime.date) -> Sizes:
    from civicgrid.cases.models import Category
    from civicgrid.grids.models import GridCell
    from civicgrid.jurisdictions.models import Jurisdiction, Unit
    from civicgrid.stats.figures import Period, totals

    rows, table_bytes, index_bytes = {}, {}, {}
    with admin_connect(url) as conn:
        for table in CASE_TABLES + STATS_TABLES:
            rows[table] = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            table_bytes[table] = int(conn.execute(f"SELECT pg_table_size('{table}')").fetchone()[0])
            index_bytes[table] = int(conn.execute(f"SELECT pg_indexes_size('{table}')").fetchone()[0])
        database = int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    first = today - datetime.timedelta(days=DAYS - 1)
    nodes = {
        level: Jurisdiction.objects.filter(level=level).count()
        for level in ("city", "county", "township", "community")
    }
    nodes |= {
        "grid cells": GridCell.objects.count(),
        "units": Unit.objects.count(),
        "categories": Category.objects.count(),
    }
    return Sizes(rows, table_bytes, index_bytes, database, totals(city, Period(first, today), today), nodes)


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


# --- EXPLAIN ---------------------------------------------------------------------------------------------

INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)")
SEQ_RE = re.compile(r"Seq Scan on (\S+)")


@dataclass
class Explained:
    label: str
    sql: str
    text: str
    execution_ms: float
    indexes: list[str]
    seq_scans: list[str]


def captured(fn: Callable[[], Any]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fn()
    return [q["sql"] for q in queries.captured_queries]


def explain(url: str, label: str, sql: str) -> Explained:
    """EXPLAIN (ANALYZE, BUFFERS), the third run (warm)."""
    text = ""
    with admin_connect(url) as conn:
        for _ in range(3):
            text = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall())
    found = re.search(r"Execution Time: ([\d.]+)", text)
    assert found is not None
    return Explained(label, sql, text, float(found.group(1)), INDEX_RE.findall(text), SEQ_RE.findall(text))


# --- The report ----------------------------------------------------------------------------------------------


@dataclass
class SetRun:
    set_name: str  # dashboard / monthly report
    node: Node
    make: Callable[[Node, Paths], list[Item]]
    rollup: Timed
    scan: Timed
    sql: Timed

    @property
    def label(self) -> str:
        return f"{self.set_name}, {self.node.label}"


@dataclass
class Report:
    machine: dict[str, str]
    cases: int
    sizes: Sizes
    load_s: float
    load_steps: dict[str, float]
    loaded_at: str
    reused: bool
    rebuild: Rebuild
    runs: list[SetRun]
    checks: int
    explained: list[Explained]
    sql_ms: dict[str, float]  # set label → SQL execution time of all its statements (EXPLAIN), city
    statements: dict[str, int]  # set label → statements run by the rollup path
    today: datetime.date
    total_s: float
    load_end: str
    speed_end: float
    reps: int
    peer_reps: int
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        m, s, r = self.machine, self.sizes, self.rebuild
        gib = 2**30

        def size(table: str) -> str:
            return f"{s.table_bytes[table] / gib:.2f} + {s.index_bytes[table] / gib:.2f} GiB"

        shape = s.shape
        out = [
            f"Measured {datetime.date.today().isoformat()} on {m['cpu']}, {m['nproc']} cores (`nproc`), "
            f"{m['ram']} RAM, {m['os']}; PostgreSQL {m['postgres']} on 127.0.0.1 ({m['pg_settings']}, "
            f"work_mem={m.get('work_mem', '?')}); Python {m['python']}, Django {m['django']}. Load average "
            f"before measuring: {m['load']}; after: {self.load_end}. Speed check (the fixed pure-Python loop of "
            f"bench/intake.py, best of 3): {m['speed']} s at the start, {self.speed_end:.3f} s at the end. "
            "Others were working on the machine at the same time.",
            "",
            f'**Data: {self.cases:,} cases** received over {DAYS} days up to {self.today.isoformat()} ("today" '
            "of the figures), generated by bench/_stats_data.py in set-based SQL (seeded): "
            f"1 city, {s.nodes['county']} districts, {s.nodes['township']} streets, {s.nodes['community']:,} "
            f"communities, {s.nodes['grid cells']:,} grid cells, {s.nodes['units']} units, "
            f"{s.nodes['categories']} categories. Over the whole span the city counts {shape['received']:,} "
            f"received, {shape['due']:,} due ({shape['received'] - shape['due']:,} dropped), "
            f"{shape['closed']:,} closed ({shape['closed_on_time']:,} on time), "
            f"{shape['due'] - shape['closed']:,} open ({shape['overdue_open']:,} overdue), "
            f"{shape['direct']:,} answered directly, {shape['returned']:,} returned ({shape['returns']:,} "
            f"returns), {shape['escalated']:,} escalated, {shape['extended']:,} extended, "
            f"{shape['reworked']:,} reworked, {shape['reopened']:,} reopened, {shape['revisited']:,} "
            f"revisited ({shape['satisfied']:,} satisfied, {shape['basically_satisfied']:,} basically).",
            "",
            "Rows and sizes (table + indexes):",
            "",
            "| table | rows | size |",
            "|---|---|---|",
            *[f"| `{t}` | {s.rows[t]:,} | {size(t)} |" for t in CASE_TABLES + STATS_TABLES],
            f"| the whole database | | {s.database_bytes / gib:.1f} GiB |",
            "",
            f"Load: {self.load_s:.0f} s ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in self.load_steps.items())
            + ")"
            + (
                f"; this run reused the database loaded {self.loaded_at[:16].replace('T', ' ')} UTC."
                if self.reused
                else "."
            ),
            "",
            f"**Build: `do_rebuild(actor=None)` took {r.seconds:.0f} s** (facts {r.facts_s:.0f} s, rollups "
            f"{r.rollups_s:.0f} s), then VACUUM ANALYZE of the statistics' tables {r.vacuum_s:.0f} s; temporary "
            f"files {r.temp_files:,} ({r.temp_bytes / gib:.1f} GiB), disk used at the peak "
            f"+{r.disk_peak / gib:.1f} GiB (the whole machine's disk, others' files included). "
            + (
                f"The rollup statements ran with `SET LOCAL work_mem = '{r.rollup_work_mem}'` (a Django execute "
                "wrapper of the bench, before `CREATE TEMPORARY TABLE stats_tmp_nodes`; the facts step with the "
                "server's work_mem): with 4MB the monthly aggregation spills to disk (see the notes). "
                if r.rollup_work_mem
                else "The server's work_mem throughout. "
            )
            + "Its statements:",
            "",
            "| part | statements | s |",
            "|---|---|---|",
            *[
                f"| {k} | {c:,} | {sec:.1f} |"
                for k, (c, sec) in sorted(r.statements.items(), key=lambda kv: -kv[1][1])
            ],
            "",
            "The facts step per case, measured on a sample of 50,000 cases after the build (the same SELECT, "
            "`fact_of` and COPY): " + ", ".join(f"{k} {v:.1f} µs" for k, v in r.per_row_us.items()) + ".",
            "",
            "<details><summary>The facts SELECT for one chunk of 5,000 cases (`EXPLAIN (ANALYZE, BUFFERS)` after "
            "the build)</summary>",
            "",
            "```",
            *r.chunk_plan.splitlines(),
            "```",
            "",
            "</details>",
            "",
            f"Method: in-process (Django's connection, as a view runs them; DEBUG off), warm caches (one "
            f"unmeasured run first), the rollup path {self.reps} times and each peer {self.peer_reps} times; "
            "each query is timed inside each run of its set. *Full scan* = the same figures from "
            "`figures.scan_totals` / `scan_breakdown` / `scan_histogram` over `stats_casefact`; *plain SQL* = "
            "COUNT … FILTER straight over `cases_case` (receipt and closing times, the area rule on "
            "`origin_path` / `level_path`) for the counts a case row holds "
            f"({', '.join(SQL_COUNTERS)}; no durations). Before reporting, the bench asserted that the "
            f"rollups, the full scan and plain SQL give the same figures for every query below, and "
            f"{self.checks} more comparisons of `totals` with `scan_totals` (four nodes, seven periods, "
            "narrowed to a category, channel, nature, unit and grid cell); the city counts every case once.",
            "",
            f"Times in ms, p50 / p95 / max. Target: p95 under {TARGET_MS:.0f} ms for a dashboard and a "
            "monthly report.",
            "",
            f"| set | node | statements | rollups ({self.reps} runs) | full scan ({self.peer_reps}) "
            f"| plain SQL ({self.peer_reps}) | rollups p95 < {TARGET_MS:.0f} ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in self.runs:
            ok = "yes" if pct(run.rollup.total, 0.95) * 1000 < TARGET_MS else "**no**"
            key = run.label
            out.append(
                f"| {run.set_name} | {run.node.label} | {self.statements.get(key, 0)} | **{stat3(run.rollup.total)}** "
                f"| {stat3(run.scan.total)} | {stat3(run.sql.total)}* | {ok} |"
            )
        out += [
            "",
            "\\* plain SQL computes fewer figures (no durations, no clock, revisit or assignment counts), so its "
            "set is lighter than the others.",
            "",
            "Each query (p50 / p95 / max, ms):",
            "",
        ]
        for set_name in dict.fromkeys(run.set_name for run in self.runs):
            runs = [run for run in self.runs if run.set_name == set_name]
            header = (
                "| query | "
                + " | ".join(f"{run.node.label}: rollups | full scan | plain SQL" for run in runs)
                + " |"
            )
            out += [f"*{set_name}*", "", header, "|---|" + "---|---|---|" * len(runs)]
            for name in runs[0].rollup.items:
                cells = []
                for run in runs:
                    label = _match(name, run.rollup.items)
                    cells.append(
                        f"{stat3(run.rollup.items[label])} | {stat3(run.scan.items[label])} | "
                        + (stat3(run.sql.items[label]) if label in run.sql.items else "—")
                    )
                out.append(f"| {_generic(name)} | " + " | ".join(cells) + " |")
            out.append("")
        out += [
            "SQL execution time of the rollup path's statements for the city (sum of `EXPLAIN ANALYZE` "
            "execution times, warm): "
            + ", ".join(f"{k}: {v:.1f} ms" for k, v in self.sql_ms.items())
            + ". The rest of each load is Django: building the queries and the model-free rows.",
            "",
            "The slowest statements (`EXPLAIN (ANALYZE, BUFFERS)`, warm, third run):",
            "",
            "| statement | ms | indexes | seq scans |",
            "|---|---|---|---|",
        ]
        for e in self.explained:
            out.append(
                f"| {e.label} | {e.execution_ms:.2f} | {', '.join(f'`{i}`' for i in dict.fromkeys(e.indexes)) or '—'} "
                f"| {', '.join(f'`{t}`' for t in dict.fromkeys(e.seq_scans)) or '—'} |"
            )
        out.append("")
        for e in self.explained:
            out += [
                f"<details><summary>{e.label} — {e.execution_ms:.2f} ms</summary>",
                "",
                "```sql",
                e.sql if len(e.sql) < 3000 else e.sql[:3000] + " …",
                "```",
                "",
                "```",
                *e.text.splitlines(),
                "```",
                "",
                "</details>",
                "",
            ]
        out.append(
            f"Command: `{COMMAND}` (`.venv/bin/python bench/stats.py`; the cluster is kept in "
            "`var/bench-stats`, so a second run only measures). The run took "
            f"{self.total_s:.0f} s. One run on a shared machine: repeat it before reading much into "
            "differences of a few tens of per cent."
        )
        return out


def _generic(name: str) -> str:
    return re.sub(r"the \d+ child areas", "the child areas", name)


def _match(name: str, items: dict[str, list[float]]) -> str:
    return next(k for k in items if _generic(k) == _generic(name))


def write_doc(section_lines: list[str]) -> None:
    """Replace this bench's section of docs/benchmarks.md (or append it), keeping the hand-written notes."""
    lines = DOC.read_text(encoding="utf-8").rstrip("\n").split("\n")
    section = [SECTION, "", *section_lines, ""]
    if SECTION in lines:
        start = lines.index(SECTION)
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        old = lines[start:end]
        section += old[old.index(NOTES_MARKER) :] if NOTES_MARKER in old else [NOTES_MARKER]
        lines[start:end] = section
    else:
        lines += ["", *section, NOTES_MARKER]
    DOC.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


# --- Main --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--keep", type=Path, default=KEEP, help="the PostgreSQL cluster's directory (kept)")
    parser.add_argument(
        "--throwaway", action="store_true", help="use DATABASE_URL's server; drop the database"
    )
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--reps", type=int, default=REPS)
    parser.add_argument("--peer-reps", type=int, default=PEER_REPS)
    parser.add_argument(
        "--rebuild", action="store_true", help="build the statistics again on a kept database"
    )
    parser.add_argument(
        "--rollup-work-mem",
        default=ROLLUP_WORK_MEM,
        help="work_mem for do_rebuild's rollup statements ('' keeps the server's)",
    )
    parser.add_argument("--no-doc", action="store_true", help="print the section, do not write the doc")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    keep = None if args.throwaway else args.keep
    with postgres(keep) as base, tempfile.TemporaryDirectory(prefix="civicgrid-bench-stats-") as tmp:
        url = db_url(base, DB_NAME)
        try:
            report = bench(base, url, Path(tmp), args, started, keep or Path(tmp))
        finally:
            if keep is None:
                with admin_connect(base) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    print()
    lines = report.lines()
    for line in lines:
        print(line)
    if not args.no_doc and args.cases == CASES:
        write_doc(lines)
        print(f"\nwrote the section {SECTION!r} in {DOC.relative_to(ROOT)}")
    elif not args.no_doc:
        print("\n(a smaller run: --cases given, docs/benchmarks.md left as it is)")


def bench(base: str, url: str, tmp: Path, args: argparse.Namespace, started: float, where: Path) -> Report:
    note_postmaster(base)
    meta = kept_meta(url)
    reused = reusable(meta, args.cases)
    if not reused:
        free = shutil.disk_usage(where if where.exists() else ROOT).free
        need = args.cases * BYTES_PER_CASE * DISK_MARGIN
        if need > free:
            raise SystemExit(
                f"{args.cases:,} cases need about {need / 2**30:.0f} GiB of disk, {free / 2**30:.0f} GiB are "
                f"free: give a smaller --cases (at most about {int(free / BYTES_PER_CASE / DISK_MARGIN):,})"
            )
        with admin_connect(base) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        meta = {}
        say(f"database {DB_NAME}: new")
    else:
        say(f"database {DB_NAME}: reusing the {args.cases:,} cases loaded {meta['loaded_at'][:16]} UTC")
    setup_django(url, tmp / "var", meta)

    from civicgrid.jurisdictions.models import Jurisdiction

    if not reused:
        load_started = time.perf_counter()
        now = datetime.datetime.now(datetime.UTC)
        city_data = build_city(SEED, say)
        say(f"generating {args.cases:,} cases:")
        timings = {"city": time.perf_counter() - load_started}
        timings |= generate(url, args.cases, SEED, city_data, now, say)
        today = now.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
        meta |= {
            "generator": GENERATOR,
            "cases": str(args.cases),
            "seed": str(SEED),
            "today": today.isoformat(),
            "loaded_at": now.isoformat(),
            "load_s": f"{time.perf_counter() - load_started:.1f}",
            "load_steps": json.dumps({k: round(v, 1) for k, v in timings.items()}),
        }
        write_meta(url, meta)
        say(f"  loaded in {float(meta['load_s']):.0f} s")
    today = datetime.date.fromisoformat(meta["today"])
    from civicgrid.stats.definitions import DEFINITIONS_VERSION
    from civicgrid.stats.models import StatsState

    current = StatsState.objects.filter(pk=1, definitions_version=DEFINITIONS_VERSION).exists()
    if not reused or args.rebuild or "rebuild" not in meta or not current:
        say("building the statistics (do_rebuild):")
        meta["rebuild"] = rebuild(url, where, args.rollup_work_mem).as_json()
        write_meta(url, {"rebuild": meta["rebuild"]})
    built = Rebuild.from_json(meta["rebuild"])

    city = Jurisdiction.objects.get(level="city")
    district = Jurisdiction.objects.get(code=DISTRICT)
    street = district.children.order_by("code").first()
    assert street is not None
    community = street.children.order_by("code").first()
    assert community is not None
    nodes = [
        Node(f"city ({city.name})", city, list(city.children.order_by("code"))),
        Node(f"district ({district.name})", district, list(district.children.order_by("code"))),
        Node(f"street ({street.name})", street, list(street.children.order_by("code"))),
    ]
    data = sizes(url, city, today)
    say(
        f"data: {data.rows['cases_case']:,} cases, {data.rows['stats_casefact']:,} facts, "
        f"{data.rows['stats_dailyfigures']:,} daily, {data.rows['stats_monthlyfigures']:,} monthly, "
        f"{data.rows['stats_monthlyduration']:,} duration rows; database {data.database_bytes / 2**30:.1f} GiB"
    )

    problems = whole_city(url, city, today)
    found, checks = sanity(nodes, community, today)
    problems += found
    say(f"checks: {checks} comparisons of totals with scan_totals, {len(problems)} problems")

    info = machine(base)
    with admin_connect(base) as conn:
        info["work_mem"] = str(conn.execute("SHOW work_mem").fetchone()[0])
    say(
        f"machine: {info['cpu']}, {info['nproc']} cores, load average {info['load']}, speed check {info['speed']} s"
    )

    rollups, scans, plain = Paths("rollup", today), Paths("scan", today), Paths("sql", today, PlainSQL())
    sets: list[tuple[str, Callable[[Node, Paths], list[Item]]]] = [
        ("dashboard", dashboard),
        ("monthly report", monthly_report),
    ]
    runs: list[SetRun] = []
    for set_name, make in sets:
        for node in nodes:
            rollup = run_set(make(node, rollups), args.reps)
            say(f"  {set_name}, {node.label}: rollups {stat3(rollup.total)} ms")
            runs.append(SetRun(set_name, node, make, rollup, rollup, rollup))
    for run in runs:
        run.sql = run_set(run.make(run.node, plain), args.peer_reps)
        problems += compare(f"{run.label} (plain SQL)", run.rollup.results, run.sql.results, subset=True)
        say(f"  {run.label}: plain SQL {stat3(run.sql.total)} ms")
    for run in runs:
        run.scan = run_set(run.make(run.node, scans), args.peer_reps)
        problems += compare(f"{run.label} (full scan)", run.rollup.results, run.scan.results)
        say(f"  {run.label}: full scan {stat3(run.scan.total)} ms")
    if problems:
        for p in problems[:50]:
            print("WRONG:", p, file=sys.stderr)
        raise SystemExit(
            f"{len(problems)} figures differ between the rollups and a recount: nothing reported"
        )

    # The statements of the rollup path: how many; for the city their SQL time and the slowest explained.
    explained_all: list[Explained] = []
    sql_ms: dict[str, float] = {}
    statements: dict[str, int] = {}
    for run in runs:
        captured_sql = [(name, s) for name, fn in run.make(run.node, rollups) for s in captured(fn)]
        statements[run.label] = len(captured_sql)
        if run.node is nodes[0]:
            done = [explain(url, f"{run.set_name}, city: {name}", s) for name, s in captured_sql]
            sql_ms[run.set_name] = sum(e.execution_ms for e in done)
            explained_all += done
    explained = sorted(explained_all, key=lambda e: -e.execution_ms)[:3]
    # The peers' statements for the city's totals of this month.
    for peer, paths in (("full scan", scans), ("plain SQL", plain)):
        name, fn = dashboard(nodes[0], paths)[0]
        sqls = [s for s in captured(fn) if s.lstrip().upper().startswith("SELECT")]
        explained += [explain(url, f"{peer}, city: {name}", s) for s in sqls[-2:]]
    for e in explained:
        say(f"  {e.label}: {e.execution_ms:.2f} ms via {', '.join(dict.fromkeys(e.indexes)) or '—'}")

    return Report(
        machine=info,
        cases=args.cases,
        sizes=data,
        load_s=float(meta.get("load_s", "0")),
        load_steps=json.loads(meta.get("load_steps", "{}")),
        loaded_at=meta.get("loaded_at", ""),
        reused=reused,
        rebuild=built,
        runs=runs,
        checks=checks,
        explained=explained,
        sql_ms=sql_ms,
        statements=statements,
        today=today,
        total_s=time.perf_counter() - started,
        load_end=" ".join(f"{x:.1f}" for x in os.getloadavg()),
        speed_end=python_speed(),
        reps=args.reps,
        peer_reps=args.peer_reps,
    )


if __name__ == "__main__":
    main()
