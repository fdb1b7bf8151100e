"""Benchmark: Open311 GET requests (the list method) over 1,000,000 stored cases, beside pgbench and a plain
Django list of the same rows.

Run from the project root:  make bench-open311
(= scripts/with-postgres.sh .venv/bin/python bench/open311.py: a throwaway PostgreSQL on 127.0.0.1, or the
server of DATABASE_URL when it is set; the database it creates there is dropped at the end.)
To keep the loaded cases between runs (the load takes minutes):
    .venv/bin/python bench/open311.py --keep var/bench-open311
runs a PostgreSQL cluster of its own in that directory (created on first use, with the settings of
scripts/with-postgres.sh), started for the run and stopped after it; a later run reuses the cases while they
are less than a week old (``received_at`` is relative to the load time, and the default query reads the
last 90 days).

Data (bench/_open311_data.py): migrate, the demo geography (as ``intake.setup_civicgrid``), the demo units and
category taxonomy and an Open311 endpoint for the city through the actions, then the cases in set-based
SQL with their handling clocks, event histories and Open311 records; VACUUM ANALYZE.

Measured, for each query of ``make_queries``, through gunicorn as `make run` serves (gthread, 2 workers × 4
threads) with the closed-loop load generator (bench/_loadgen.py) at each concurrency of CONCURRENCY:
requests/s, latency percentiles, CPU per request (gunicorn and PostgreSQL), rows and bytes returned. Beside
each: the SQL the request runs, captured in-process, under ``EXPLAIN (ANALYZE, BUFFERS)`` (the index the
list query uses, its time) and replayed by pgbench at the same concurrency — the floor of what PostgreSQL
alone costs per request — and, for two queries, a plain Django view returning the same rows with
``values()`` as JSON (bench/_open311_urls.py): what Django and the ORM cost without the Open311 layer.

The figures replace the "Open311 GET requests" section of docs/benchmarks.md; notes written by hand below
the NOTES_MARKER line of that section are kept.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import importlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
from _open311_data import DAYS, GENERATOR, Catalogue, build_catalogue, generate
from intake import (
    DEMO_STEPS,
    HZ,
    NCPU,
    SERVED,
    CivicGrid,
    CpuWatch,
    Server,
    admin_connect,
    civicgrid_server,
    config_label,
    db_url,
    free_port,
    grid_points,
    load,
    machine,
    note_postmaster,
    pg_bin,
    python_speed,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Open311 GET requests (bench/open311.py)"
NOTES_MARKER = "<!-- Notes below this line are written by hand; bench/open311.py keeps them. -->"
COMMAND = "make bench-open311"
DB_NAME = "bench_open311"
META_TABLE = "bench_open311_meta"
INITDB_OPTIONS = ["-U", "civicgrid", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]  # as with-postgres.sh
KEEP_DAYS = 7  # a kept database older than this is loaded again

CASES = 1_000_000
SEED = 20260101
CONCURRENCY = [1, 8]
WARMUP = 3.0
DURATION = 20.0
PGBENCH_DURATION = 20.0
PLAIN_QUERIES = {"default", "page100"}  # the queries the plain Django list is measured beside


# --- PostgreSQL: the with-postgres.sh server, or a cluster of our own kept in a directory -------------------


@contextlib.contextmanager
def postgres(keep: Path | None) -> Iterator[str]:
    """The server's URL (any database on it) for the run."""
    if keep is None:
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith(("postgres://", "postgresql://")):
            raise SystemExit(
                "DATABASE_URL must point at PostgreSQL: run `make bench-open311`, or give --keep DIR"
            )
        yield base
        return
    keep = keep.resolve()
    data = keep / "db"
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    keep.mkdir(parents=True, exist_ok=True)
    if run_as:  # PostgreSQL refuses to run as root (as in scripts/with-postgres.sh)
        shutil.chown(keep, "postgres")
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [*run_as, pg_bin("initdb"), "-D", str(data), *INITDB_OPTIONS],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    pg_ctl = pg_bin("pg_ctl")
    if subprocess.run([*run_as, pg_ctl, "-D", str(data), "status"], capture_output=True).returncode == 0:
        # Left running by a run that was killed: restart it on a free port.
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], check=True)
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {keep}"
    options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(data), "-l", str(keep / "log"), "-w", "-o", options, "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql://civicgrid@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL
        )


def kept_meta(url: str) -> dict[str, str]:
    """What the database says about its load (empty: no database, or no complete load)."""
    import psycopg

    try:
        with admin_connect(url) as conn:
            rows = conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall()
    except psycopg.Error:
        return {}
    return {str(k): str(v) for k, v in rows}


def reusable(meta: dict[str, str], cases: int) -> bool:
    if meta.get("generator") != GENERATOR or meta.get("cases") != str(cases) or meta.get("seed") != str(SEED):
        return False
    if "encryption_key" not in meta or "loaded_at" not in meta:  # a load that did not finish
        return False
    loaded = datetime.datetime.fromisoformat(meta["loaded_at"])
    return datetime.datetime.now(datetime.UTC) - loaded < datetime.timedelta(days=KEEP_DAYS)


def write_meta(url: str, values: dict[str, str]) -> None:
    with admin_connect(url) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value text NOT NULL)")
        for key, value in values.items():
            conn.execute(
                f"INSERT INTO {META_TABLE} VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def setup(url: str, var_dir: Path, meta: dict[str, str]) -> CivicGrid:
    """As intake.setup_civicgrid (migrate, the demo geography, seeded points in the grid cells), but with the
    secret and encryption keys kept in ``meta``: a kept database's encrypted values must stay readable."""
    # Stored beside the bench's generated rows (no real data): a later run with --keep needs the same keys.
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
    started = time.perf_counter()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from civicgrid.demo.context import DEMO_PASSWORD, DemoContext

    call_command("migrate", verbosity=0)
    write_meta(url, {k: meta[k] for k in ("secret_key", "encryption_key")})
    ctx = DemoContext(
        data_dir=settings.SHARED_DATA_DIR, say=lambda _: None, password_hash=make_password(DEMO_PASSWORD)
    )
    with transaction.atomic():
        for dotted in DEMO_STEPS:
            importlib.import_module(dotted).load(ctx)
    points, cells = grid_points()
    connection.close()
    return CivicGrid(env=env, token="", points=points, cells=cells, setup_s=time.perf_counter() - started)


# --- The data ----------------------------------------------------------------------------------------------


@dataclass
class Data:
    cases: int
    clocks: int
    events: int
    records: int
    in_window: int  # received in the last 90 days
    published_in_window: int
    open_share: float
    categories: int
    sizes: dict[str, str]  # table → its size with indexes
    load_s: float
    load_steps: dict[str, float]
    loaded_at: str
    reused: bool


def describe(url: str, meta: dict[str, str], reused: bool) -> Data:
    from civicgrid.cases.models import Case, CaseClock, CaseEvent
    from civicgrid.open311.models import ServiceRequest

    tables = [m._meta.db_table for m in (Case, CaseClock, CaseEvent, ServiceRequest)]
    case = tables[0]
    with admin_connect(url) as conn:

        def one(sql: str) -> Any:
            return conn.execute(sql).fetchone()[0]

        counts = [int(one(f"SELECT count(*) FROM {t}")) for t in tables]
        window = "received_at >= now() - interval '90 days'"
        in_window = int(one(f"SELECT count(*) FROM {case} WHERE {window}"))
        published = int(
            one(
                f"SELECT count(*) FROM {case} WHERE {window} "
                "AND category_id IS NOT NULL AND nature <> 'report'"
            )
        )
        open_cases = int(one(f"SELECT count(*) FROM {case} WHERE closed_at IS NULL"))
        categories = int(one(f"SELECT count(DISTINCT category_id) FROM {case}"))
        sizes = {t: str(one(f"SELECT pg_size_pretty(pg_total_relation_size('{t}'))")) for t in tables}
    return Data(
        cases=counts[0],
        clocks=counts[1],
        events=counts[2],
        records=counts[3],
        in_window=in_window,
        published_in_window=published,
        open_share=open_cases / max(1, counts[0]),
        categories=categories,
        sizes=sizes,
        load_s=float(meta.get("load_s", "0")),
        load_steps=json.loads(meta.get("load_steps", "{}")),
        loaded_at=meta.get("loaded_at", ""),
        reused=reused,
    )


# --- The queries -----------------------------------------------------------------------------------------


@dataclass
class Query:
    key: str
    label: str
    params: dict[str, str]
    fmt: str = "json"
    measure: bool = True  # False: its SQL is explained, no load is run (a page deep in the 90 days)

    def path(self, city: str) -> str:
        return f"/open311/v2/requests.{self.fmt}?" + urlencode({"jurisdiction_id": city, **self.params})


def make_queries(url: str, cat: Catalogue) -> list[Query]:
    """The service codes by how common they are, a 7-day window a month back, ten ids of published cases."""
    from civicgrid.cases.models import Case

    table = Case._meta.db_table
    with admin_connect(url) as conn:
        counts = dict(
            conn.execute(f"SELECT category_id, count(*) FROM {table} GROUP BY category_id").fetchall()
        )
        # Ten published cases from the whole two years, in a fixed pseudo-random order.
        ids = [
            str(r[0])
            for r in conn.execute(
                f"SELECT number FROM {table} WHERE category_id IS NOT NULL AND nature <> 'report' "
                "ORDER BY md5(number) LIMIT 10"
            ).fetchall()
        ]
    by_count = sorted(cat.leaves, key=lambda leaf: -counts.get(leaf[0], 0))
    common, second = by_count[0], by_count[1]
    # Rare: a service with about a case a week (a hundred in two years), or the rarest one with cases.
    rare = min(
        (leaf for leaf in by_count if counts.get(leaf[0], 0) > 0),
        key=lambda leaf: abs(counts.get(leaf[0], 0) - DAYS / 7),
    )
    today = datetime.date.today()
    start, end = today - datetime.timedelta(days=37), today - datetime.timedelta(days=31)

    def n(leaf: tuple[int, str, int]) -> str:
        return f"{counts.get(leaf[0], 0):,} cases in all"

    return [
        Query("default", "default: last 90 days, page 1 of 1,000", {}),
        Query("default-xml", "default, XML", {}, fmt="xml"),
        Query("page100", "page_size=100", {"page_size": "100"}),
        Query("page50", "page=50, page_size=100", {"page": "50", "page_size": "100"}),
        Query(
            "page1000",
            "page=1000, page_size=100 (plan only)",
            {"page": "1000", "page_size": "100"},
            measure=False,
        ),
        Query("common", f"service_code={common[1]} (most common, {n(common)})", {"service_code": common[1]}),
        Query("rare", f"service_code={rare[1]} (rare, {n(rare)})", {"service_code": rare[1]}),
        Query("open", "status=open", {"status": "open"}),
        Query(
            "closed-code",
            f"status=closed, service_code={second[1]} ({n(second)})",
            {"status": "closed", "service_code": second[1]},
        ),
        Query(
            "week",
            f"start_date={start.isoformat()}, end_date={end.isoformat()} (7 days)",
            {"start_date": start.isoformat(), "end_date": end.isoformat()},
        ),
        Query("ids", "service_request_id: 10 ids", {"service_request_id": ",".join(ids)}),
        Query("extensions", "extensions=true, page_size=100", {"extensions": "true", "page_size": "100"}),
    ]


@dataclass
class Plan:
    text: str  # EXPLAIN (ANALYZE, BUFFERS) of the list query, warm
    indexes: list[str]  # index names the plan reads, in plan order
    seq_scans: list[str]
    planning_ms: float
    execution_ms: float
    rows_read: int  # rows the scans of cases_case produced (before LIMIT/OFFSET)
    shared_hit: int
    shared_read: int


@dataclass
class Capture:
    query: Query
    status: int
    rows: int
    size: int  # bytes of the answer
    statements: list[str]  # the SQL the request runs, in order
    main: int  # index of the list query among them
    plan: Plan | None = None
    all_sql_ms: float = 0.0  # execution time of every statement (EXPLAIN ANALYZE), summed


INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)")
SEQ_RE = re.compile(r"Seq Scan on (\S+)")


def capture(query: Query, city: str) -> Capture:
    """The request in-process (Django's test client): its status, rows, size and the SQL it runs."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    path = query.path(city)
    client.get(path)  # first: per-process caches (categories, limits) are filled
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    body = response.content
    if query.fmt == "json":
        parsed = json.loads(body)
        rows = len(parsed) if isinstance(parsed, list) else 0
    else:
        rows = body.count(b"<request>")
    statements = [q["sql"] for q in queries.captured_queries]
    main = next(
        (
            i
            for i, sql in enumerate(statements)
            # The first statement that reads cases newest first (Django may write the ORDER BY by column
            # position): the page itself, or for a later page the query of its keys.
            if 'FROM "cases_case"' in sql and '"cases_case"."id" DESC' in sql
        ),
        -1,
    )
    connection.close()
    return Capture(query, response.status_code, rows, len(body), statements, main)


def explain(url: str, cap: Capture) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement (the third run of each: warm caches)."""
    total = 0.0
    with admin_connect(url) as conn:
        for i, sql in enumerate(cap.statements):
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            text = ""
            for _ in range(3):
                text = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall())
            found = re.search(r"Execution Time: ([\d.]+)", text)
            assert found is not None
            execution = float(found.group(1))
            total += execution
            if i != cap.main:
                continue
            planning = float(re.search(r"Planning Time: ([\d.]+)", text).group(1))  # type: ignore[union-attr]
            hit = re.search(r"Buffers: shared hit=(\d+)", text)
            read = re.search(r"Buffers: shared (?:hit=\d+ )?read=(\d+)", text)
            rows_read = sum(
                int(m.group(1))
                for m in re.finditer(
                    r"(?:Scan|Scan Backward)[^\n]*?(?:cases_case|case_\w+idx|case_number_uniq)[^\n]*"
                    r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+)",
                    text,
                )
            )
            cap.plan = Plan(
                text=text,
                indexes=INDEX_RE.findall(text),
                seq_scans=SEQ_RE.findall(text),
                planning_ms=planning,
                execution_ms=execution,
                rows_read=rows_read,
                shared_hit=int(hit.group(1)) if hit else 0,
                shared_read=int(read.group(1)) if read else 0,
            )
    cap.all_sql_ms = total


# --- In-process: where a request's time goes -------------------------------------------------------------


@dataclass
class Steps:
    label: str
    ms: dict[str, float]  # step → median ms


def steps(city: str, fmt: str, page_size: int, repeats: int = 7) -> Steps:
    """The default query's steps called one by one in this process (median of ``repeats``): the list query,
    the handling clocks, the answer's values, rendering."""
    from django.db import connection

    from civicgrid.lib import clock
    from civicgrid.open311 import queries
    from civicgrid.open311.formats import Value, render
    from civicgrid.open311.models import Endpoint

    endpoint = Endpoint.objects.select_related("jurisdiction").get(code=city)
    end = clock.now()
    times: dict[str, list[float]] = {
        "list query": [],
        "handling clocks": [],
        "answer values": [],
        "render": [],
    }
    for _ in range(repeats):
        t0 = time.perf_counter()
        found = queries.find_requests(
            queries.RequestQuery(endpoint=endpoint, start=end - queries.SPAN, end=end, page_size=page_size)
        )
        t1 = time.perf_counter()
        expected = queries.expected_datetimes(found)
        t2 = time.perf_counter()
        body: list[Value] = [queries.request_body(c, expected.get(c.pk)) for c in found]
        t3 = time.perf_counter()
        render(fmt, "service_requests", body)
        t4 = time.perf_counter()
        for name, spent in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[name].append(spent * 1000)
    connection.close()
    return Steps(f"{page_size:,} rows, {fmt.upper()}", {k: statistics.median(v) for k, v in times.items()})


# --- Load runs ---------------------------------------------------------------------------------------------


def _reaped_ticks() -> int:
    """CPU ticks of the PostgreSQL server's children that have ended (cutime + cstime of the postmaster)."""
    if CpuWatch.postmaster is None:
        return 0
    raw = Path(f"/proc/{CpuWatch.postmaster}/stat").read_text()
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[13]) + int(rest[14])


class Watch(CpuWatch):
    """intake.CpuWatch, plus the CPU that PostgreSQL backends ending inside the block used in it.

    CpuWatch counts only processes still alive at the end, so the backends of pgbench's connections, which
    close when it exits, go uncounted (bench/intake.py's pgbench rows show about 0 ms of PostgreSQL CPU).
    The postmaster reaps them, so their whole CPU shows in its children's time; what a backend alive at the
    start had used before the block is taken off (Django's connections are replaced after CONN_MAX_AGE,
    and a long-lived backend's earlier CPU must not land on the run it happens to end in)."""

    def __enter__(self) -> Watch:
        self.reaped = _reaped_ticks()
        super().__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        reaped = _reaped_ticks() - self.reaped
        alive = {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}
        earlier = sum(
            ticks
            for pid, (parent, ticks) in self.before.items()
            if parent == CpuWatch.postmaster and pid not in alive
        )
        self.db += max(0, reaped - earlier) / HZ


@dataclass
class Run:
    label: str
    concurrency: int
    rate: float  # answers (200) per second in the window
    p50: float
    p90: float
    p99: float
    answered: int
    errors: dict[str, int] = field(default_factory=dict)
    app_ms: float = 0.0  # CPU of gunicorn per answer, whole run (0 for pgbench)
    db_ms: float = 0.0  # CPU of PostgreSQL per answer or pgbench transaction, whole run
    gen_ms: float = 0.0  # CPU of the load generator per request
    others: float = 0.0  # CPU share of processes outside the bench meanwhile

    def error_text(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "none"


def summarize(
    label: str,
    concurrency: int,
    records: list[list[Any]],
    duration: float,
    cpu: CpuWatch,
    gen_cpu: float = 0.0,
) -> Run:
    """Figures of the requests that completed inside [WARMUP, WARMUP + duration); CPU over the whole run."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    for _index, began, latency, status, _size, _error, sent in records:
        if not WARMUP <= began + latency < WARMUP + duration:
            continue
        if status == 200:
            latencies.append(latency)
        else:
            kind = str(status) if status else "no answer" if sent else "refused"
            errors[kind] = errors.get(kind, 0) + 1
    done = sum(1 for r in records if r[3] == 200) or 1
    lat = np.array(latencies) if latencies else np.array([np.nan])
    p50, p90, p99 = (float(x) for x in np.percentile(lat, [50, 90, 99]))
    return Run(
        label=label,
        concurrency=concurrency,
        rate=len(latencies) / duration,
        p50=p50,
        p90=p90,
        p99=p99,
        answered=len(latencies),
        errors=errors,
        app_ms=cpu.app / done * 1000,
        db_ms=cpu.db / done * 1000,
        gen_ms=gen_cpu / max(1, len(records)) * 1000,
        others=cpu.others,
    )


def http_run(server: Server, path: str, concurrency: int, duration: float, tmp: Path, label: str) -> Run:
    spec = {
        "host": "127.0.0.1",
        "port": server.port,
        "method": "GET",
        "paths": [path],
        "headers": {"Accept": "*/*"},
        "mode": "closed",
        "concurrency": concurrency,
        "warmup": WARMUP,
        "duration": duration,
    }
    with Watch(server.pid) as cpu:
        result = load(spec, tmp)
    run = summarize(label, concurrency, result["records"], duration, cpu, result.get("generator_cpu", 0.0))
    if run.answered == 0:
        first = next((r for r in result["records"] if r[3] != 200), None)
        raise SystemExit(f"{label}: no request answered 200; the first failure: {first}")
    return run


def pgbench_run(
    url: str, statements: list[str], concurrency: int, duration: float, tmp: Path, label: str
) -> Run:
    """pgbench replaying the request's statements (one pgbench transaction = one request's SQL, each
    statement in its own implicit transaction as Django runs them), latencies from its per-transaction log."""
    script = tmp / "request.sql"
    script.write_text("".join(sql.rstrip().rstrip(";") + ";\n" for sql in statements), encoding="utf-8")
    log_dir = tmp / "pgbench"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir()
    parts = urlsplit(url)
    argv = [
        pg_bin("pgbench"),
        *("-n", "-c", str(concurrency), "-j", str(min(concurrency, NCPU)), "-T", str(int(WARMUP + duration))),
        *("-f", str(script), "--log", "--log-prefix", str(log_dir / "tx")),
        *(
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
        ),
        parts.path.lstrip("/"),
    ]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    with Watch() as cpu:
        done = subprocess.run(argv, env=env, cwd=tmp, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed: {done.stderr[-2000:]}")
    ends: list[tuple[float, float]] = []
    for path in log_dir.iterdir():
        for line in path.read_text().splitlines():
            f = line.split()  # client transaction latency_us script end_s end_us
            ends.append((int(f[4]) + int(f[5]) / 1e6, int(f[2]) / 1e6))
    first = min(end - lat for end, lat in ends)
    records = [[i, end - lat - first, lat, 200, None, None, True] for i, (end, lat) in enumerate(ends)]
    return summarize(label, concurrency, records, duration, cpu)


# --- Report ------------------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:,.0f}"


def cpu_cell(run: Run) -> str:
    def one(v: float) -> str:
        return f"{v:.2f}" if v < 1 else f"{v:.1f}"

    return f"{one(run.app_ms)} + {one(run.db_ms)}" if run.app_ms else f"— + {one(run.db_ms)}"


@dataclass
class Row:
    capture: Capture
    runs: dict[int, Run]  # concurrency → the HTTP run
    pgbench: dict[int, Run]
    plain: dict[int, Run] = field(default_factory=dict)


@dataclass
class Report:
    machine: dict[str, str]
    data: Data
    rows: list[Row]
    steps: list[Steps]
    config: tuple[str, int, int]
    total_s: float
    speed_end: float
    load_end: str
    duration: float
    pgbench_duration: float
    concurrency: list[int]
    endpoint: str

    def lines(self) -> list[str]:
        m, d = self.machine, self.data
        sizes = ", ".join(f"`{t}` {s}" for t, s in d.sizes.items())
        steps_text = ", ".join(f"{k} {v:.0f} s" for k, v in d.load_steps.items())
        out = [
            f"Measured {datetime.date.today().isoformat()} on {m['cpu']}, {m['nproc']} cores (`nproc`), "
            f"{m['ram']} RAM, {m['os']}; PostgreSQL {m['postgres']} on 127.0.0.1 ({m['pg_settings']}); "
            f"Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}. Load average before "
            f"measuring: {m['load']}; after: {self.load_end}. Speed check (the fixed pure-Python loop of "
            f"bench/intake.py, best of 3): {m['speed']} s at the start, {self.speed_end:.3f} s at the end.",
            "",
            f"Data: **{d.cases:,} cases** received over the last {DAYS} days (uniformly; "
            f"{d.in_window:,} in the "
            f"last 90 days, of which {d.published_in_window:,} published), {d.open_share:.1%} open, "
            f"{d.categories} service codes drawn with Zipf weights; {d.clocks:,} handling clocks, "
            f"{d.events:,} case events, {d.records:,} Open311 records. Sizes with indexes: {sizes}. "
            "Generated "
            "by bench/_open311_data.py in set-based SQL (seeded), after migrate, the demo geography, units "
            "and category taxonomy and an Open311 endpoint for the city made through the actions; VACUUM "
            f"ANALYZE after the load. Load: {d.load_s:.0f} s ({steps_text})"
            + (
                f"; this run reused the database loaded {d.loaded_at[:16].replace('T', ' ')} UTC (`--keep`)."
                if d.reused
                else "."
            ),
            "",
            "Method: every request is "
            f"`GET /open311/v2/requests.{{json,xml}}?jurisdiction_id={self.endpoint}&…` "
            f"without an API key, to gunicorn {config_label(self.config)} (what `make run` serves), from "
            "bench/_loadgen.py (its own process, asyncio, HTTP/1.1 keep-alive, closed loop: each connection "
            f"sends its next request when the answer is in) on {', '.join(map(str, self.concurrency))} "
            f"connections; warm-up {WARMUP:.0f} s, then {self.duration:.0f} s measured. *CPU ms per request* "
            "is gunicorn's (master and workers) + PostgreSQL's CPU over the run divided by the answers. "
            "**The peer** beside each row is PostgreSQL alone: pgbench replaying exactly the SQL the "
            "request runs (captured in-process with Django's CaptureQueriesContext; one pgbench transaction "
            "= all the request's statements, each autocommitted as Django runs them, simple protocol, so "
            f"each is planned again) with as many clients, {self.pgbench_duration:.0f} s measured; its rate "
            "is "
            "the ceiling no web layer can pass on this machine. For two queries a plain Django view "
            "(bench/_open311_urls.py: the same WHERE and ORDER BY, one `values()` query, `JsonResponse`, no "
            "clocks and no Open311 formatting) shows what Django and the ORM cost for the same rows. No "
            "other Open311 server is measured: FixMyStreet and Mark-a-Spot would need their own stacks and "
            "data, so the comparison is against the floor, not a competitor. Latency: first byte sent to "
            "last byte of the answer; for pgbench, its per-transaction latency.",
            "",
            "| query | rows | bytes | SQL statements | index of the list query | list query ms "
            "| all SQL ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            cap, plan = row.capture, row.capture.plan
            index = ", ".join(f"`{i}`" for i in dict.fromkeys(plan.indexes)) if plan else "—"
            if plan and plan.seq_scans:
                index += " + Seq Scan " + ", ".join(f"`{s}`" for s in dict.fromkeys(plan.seq_scans))
            list_ms = f"{plan.execution_ms:.2f}" if plan else "—"
            out.append(
                f"| {cap.query.label} | {cap.rows:,} | {cap.size:,} | {len(cap.statements)} | {index} "
                f"| {list_ms} | {cap.all_sql_ms:.2f} |"
            )
        out += [
            "",
            "*List query ms*: the execution time PostgreSQL reports under `EXPLAIN (ANALYZE, BUFFERS)` "
            "(third "
            "run, warm); *all SQL ms*: the same, summed over every statement of the request.",
            "",
            "| query | connections | requests/s | p50 ms | p90 ms | p99 ms | errors "
            "| CPU ms per request: app + PostgreSQL | pgbench tx/s | pgbench p50 ms | pgbench p99 ms "
            "| PostgreSQL CPU ms per tx | others' CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            for n in self.concurrency if row.runs else []:
                r, b = row.runs[n], row.pgbench[n]
                out.append(
                    f"| {row.capture.query.label} | {n} | **{r.rate:,.1f}** | {ms(r.p50)} | {ms(r.p90)} "
                    f"| {ms(r.p99)} | {r.error_text()} | {cpu_cell(r)} | {b.rate:,.0f} | {ms(b.p50)} "
                    f"| {ms(b.p99)} | {b.db_ms:.2f} | {max(r.others, b.others):.0%} |"
                )
        out += ["", "The XML row's pgbench figures are the JSON row's: the same SQL, measured once."]
        plain = [row for row in self.rows if row.plain]
        if plain:
            out += [
                "",
                "The plain Django list of the same rows (one `values()` query, `JsonResponse`), beside the "
                "Open311 answer:",
                "",
                "| query | connections | Open311 requests/s | plain Django requests/s | plain p50 ms "
                "| plain p99 ms "
                "| plain CPU ms per request: app + PostgreSQL |",
                "|---|---|---|---|---|---|---|",
            ]
            for row in plain:
                for n in self.concurrency:
                    r, q = row.runs[n], row.plain[n]
                    out.append(
                        f"| {row.capture.query.label} | {n} | {r.rate:,.1f} | **{q.rate:,.1f}** "
                        f"| {ms(q.p50)} "
                        f"| {ms(q.p99)} | {cpu_cell(q)} |"
                    )
        if self.steps:
            names = list(self.steps[0].ms)
            out += [
                "",
                "Where a request's time goes (the default query's steps called one by one in the bench's "
                "process, median of 7; no HTTP, no middleware):",
                "",
                "| answer | " + " | ".join(f"{n} ms" for n in names) + " |",
                "|---|" + "---|" * len(names),
                *[f"| {s.label} | " + " | ".join(f"{s.ms[n]:.1f}" for n in names) + " |" for s in self.steps],
            ]
        out += ["", "The list query's plan for each query (`EXPLAIN (ANALYZE, BUFFERS)`, warm):", ""]
        for row in self.rows:
            p = row.capture.plan
            if p is None or row.capture.query.key == "default-xml":
                continue
            out += [
                "<details><summary>" + row.capture.query.label + f" — {p.execution_ms:.2f} ms</summary>",
                "",
                "```",
                *p.text.splitlines(),
                "```",
                "",
                "</details>",
                "",
            ]
        out += [
            f"Command: `{COMMAND}` (`scripts/with-postgres.sh .venv/bin/python bench/open311.py`; "
            "`.venv/bin/python bench/open311.py --keep var/bench-open311` keeps the loaded database); the "
            "run "
            f"took {self.total_s:.0f} s. One run on a shared machine: repeat it before reading much into "
            "differences of a few tens of per cent.",
        ]
        return out


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


def say(text: str) -> None:
    print(text, flush=True)


def run_row(run: Run) -> str:
    return (
        f"{run.label}, c={run.concurrency}: {run.rate:,.1f}/s, p50 {ms(run.p50)} ms, p99 {ms(run.p99)} ms, "
        f"CPU {cpu_cell(run)} ms, errors {run.error_text()}, others {run.others:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--keep", type=Path, help="a PostgreSQL cluster of its own in DIR, kept between runs")
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds measured per HTTP run")
    parser.add_argument("--pgbench-duration", type=float, default=PGBENCH_DURATION)
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    parser.add_argument("--only", help="comma-separated query keys (default: all)")
    parser.add_argument("--no-doc", action="store_true", help="print the section, do not write the doc")
    args = parser.parse_args()
    # A stop (Ctrl-C, kill, even when started in the background with SIGINT ignored) unwinds: the servers
    # stop, a kept cluster is shut down, a throwaway database dropped.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    concurrency = [int(c) for c in args.concurrency.split(",")]
    started = time.perf_counter()
    with postgres(args.keep) as base, tempfile.TemporaryDirectory(prefix="civicgrid-bench-open311-") as tmp:
        url = db_url(base, DB_NAME)
        try:
            report = bench(base, url, Path(tmp), args, concurrency, started)
        finally:
            if args.keep is None:
                with admin_connect(base) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    print()
    lines = report.lines()
    for line in lines:
        print(line)
    if not args.no_doc and args.cases == CASES and args.only is None:
        write_doc(lines)
        print(f"\nwrote the section {SECTION!r} in {DOC.relative_to(ROOT)}")
    elif not args.no_doc:
        print("\n(a partial run: --cases or --only given, docs/benchmarks.md left as it is)")


def bench(
    base: str, url: str, tmp: Path, args: argparse.Namespace, concurrency: list[int], started: float
) -> Report:
    note_postmaster(base)
    meta = kept_meta(url)
    reused = reusable(meta, args.cases)
    if not reused:
        with admin_connect(base) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    say(
        f"database {DB_NAME}: "
        + (
            f"reusing the {args.cases:,} cases loaded {meta['loaded_at'][:16].replace('T', ' ')} UTC"
            if reused
            else "new"
        )
    )
    setup_started = time.perf_counter()
    if not reused:
        meta = {}
    cg = setup(url, tmp / "var", meta)
    cat = build_catalogue(cg.points, SEED)
    say(
        f"migrate + demo geography + catalogue: {time.perf_counter() - setup_started:.0f} s; "
        f"{len(cat.leaves)} services"
    )
    if not reused:
        say(f"loading {args.cases:,} cases:")
        load_started = time.perf_counter()
        timings = generate(url, args.cases, SEED, cat, say)
        meta |= {
            "generator": GENERATOR,
            "cases": str(args.cases),
            "seed": str(SEED),
            "loaded_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "load_s": f"{time.perf_counter() - load_started:.1f}",
            "load_steps": json.dumps({k: round(v, 1) for k, v in timings.items()}),
        }
        write_meta(url, meta)
        say(f"  loaded in {float(meta['load_s']):.0f} s")
    data = describe(url, meta, reused)
    say(
        f"data: {data.cases:,} cases, {data.in_window:,} in the last 90 days, {data.events:,} events; "
        f"{data.sizes}"
    )

    queries = make_queries(url, cat)
    if args.only:
        wanted = set(args.only.split(","))
        queries = [q for q in queries if q.key in wanted]
    captures: list[Capture] = []
    for query in queries:
        cap = capture(query, cat.city_code)
        if cap.status != 200 or cap.main < 0:
            raise SystemExit(f"{query.label}: status {cap.status}, list query found: {cap.main >= 0}")
        explain(url, cap)
        p = cap.plan
        assert p is not None
        say(
            f"  {query.label}: {cap.rows} rows, {cap.size:,} bytes, {len(cap.statements)} statements; "
            "list query "
            f"{p.execution_ms:.2f} ms via {', '.join(dict.fromkeys(p.indexes)) or '—'}"
            + (f", Seq Scan {', '.join(p.seq_scans)}" if p.seq_scans else "")
        )
        captures.append(cap)
    steps_found = [
        steps(cat.city_code, fmt, size) for fmt, size in (("json", 1000), ("xml", 1000), ("json", 100))
    ]
    for s in steps_found:
        say(f"  steps, {s.label}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in s.ms.items()))

    info = machine(base)
    say(
        f"machine: {info['cpu']}, {info['nproc']} cores, load average {info['load']}, "
        f"speed check {info['speed']} s"
    )
    if os.getloadavg()[0] >= 1.0:
        say("  the machine is busy: rates and latencies will be low (see the others' CPU column)")
    server = civicgrid_server(cg, SERVED, tmp)
    plain_server = civicgrid_server(cg, SERVED, tmp)
    plain_server.log = tmp / "plain.log"
    plain_server.env["DJANGO_SETTINGS_MODULE"] = "_open311_settings"
    rows: list[Row] = []
    server.start()
    plain_server.start()
    try:
        for cap in captures:
            row = Row(capture=cap, runs={}, pgbench={})
            if not cap.query.measure:
                rows.append(row)
                continue
            label = cap.query.label
            for c in concurrency:
                row.runs[c] = http_run(server, cap.query.path(cat.city_code), c, args.duration, tmp, label)
                say("  " + run_row(row.runs[c]))
            same = next((r for r in rows if r.capture.query.params == cap.query.params), None)
            if same is not None:  # the same SQL in another format (XML): measured once
                row.pgbench = same.pgbench
            for c in concurrency if same is None else []:
                row.pgbench[c] = pgbench_run(
                    url, cap.statements, c, args.pgbench_duration, tmp, "pgbench, " + label
                )
                say("  " + run_row(row.pgbench[c]))
            if cap.query.key in PLAIN_QUERIES:
                size = cap.query.params.get("page_size", "1000")
                path = f"/bench/plain-requests.json?jurisdiction_id={cat.city_code}&page_size={size}"
                for c in concurrency:
                    row.plain[c] = http_run(
                        plain_server, path, c, args.duration, tmp, "plain Django, " + label
                    )
                    say("  " + run_row(row.plain[c]))
            rows.append(row)
    finally:
        server.stop()
        plain_server.stop()
    return Report(
        machine=info,
        data=data,
        rows=rows,
        steps=steps_found,
        config=SERVED,
        total_s=time.perf_counter() - started,
        speed_end=python_speed(),
        load_end=" ".join(f"{x:.1f}" for x in os.getloadavg()),
        duration=args.duration,
        pgbench_duration=args.pgbench_duration,
        concurrency=concurrency,
        endpoint=cat.city_code,
    )


if __name__ == "__main__":
    main()
