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
import os
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _stats_data import DAYS, GENERATOR, build_city, generate
from _stats_report import (
    CASE_TABLES,
    DOC,
    ROOT,
    SECTION,
    STATS_TABLES,
    Explained,
    RankingRun,
    Rebuild,
    Report,
    SetRun,
    Sizes,
    captured,
    explain,
    write_doc,
)
from _stats_sets import (
    Item,
    Node,
    Paths,
    PlainSQL,
    compare,
    dashboard,
    monthly_report,
    ranking_items,
    run_set,
    same_ranking,
    sanity,
    schemes,
    stat3,
    whole_city,
)
from intake import admin_connect, db_url, machine, note_postmaster, python_speed
from open311 import postgres

if TYPE_CHECKING:
    from civicgrid.jurisdictions.models import Jurisdiction

DB_NAME = "bench_stats"
META_TABLE = "bench_stats_meta"
KEEP = ROOT / "var" / "bench-stats"

CASES = 10_000_000
SEED = 20260101
REPS = 30
PEER_REPS = 3
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
    rankings: list[RankingRun] = []
    for scheme in schemes(city, district):
        by_rollups = run_set(ranking_items(scheme, today, scan=False), args.reps)
        by_scan = run_set(ranking_items(scheme, today, scan=True), args.peer_reps)
        ranking = by_rollups.results["ranking"]
        if not same_ranking(ranking, by_scan.results["ranking"]):
            problems.append(f"assessment {scheme.code}: the ranking by the rollups differs from the scan's")
        kind = {"unit": "units", "grid": "grid cells"}.get(scheme.subject, f"{scheme.area_level}s")
        label = f"{kind} of {scheme.jurisdiction.name}"
        rankings.append(
            RankingRun(
                label,
                len(ranking.entries),
                sum(1 for e in ranking.entries if e.rank is not None),
                len(ranking.red),
                len(ranking.black),
                by_rollups,
                by_scan,
            )
        )
        say(f"  assessment, {label}: rollups {stat3(by_rollups.total)} ms, scan {stat3(by_scan.total)} ms")
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
        rankings=rankings,
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
