"""Benchmark: the worker's deadline sweep over 100,000 due clocks.

Run from the project root on PostgreSQL (a throwaway server):
    scripts/with-postgres.sh .venv/bin/python bench/sweep.py          (or: make bench-sweep)
or on SQLite:  .venv/bin/python bench/sweep.py --sqlite

Set-up (not measured): a fresh database with the demo geography (天心区: jurisdictions, units, staff, grid
cells), SEED cases taken in, registered and dispatched through the real actions at a frozen time, then
cloned (harness bulk inserts of the case, its event history, its assignment and its running accept clock)
up to --cases. Each accept clock has fired its 80 % warning on an earlier round and is now past its
deadline: the sweep records `clock.overdue` and the default rule urges the unit (an urge action: locked case
update, event, supervision record, in-app notifications to the unit's handlers).

Measured: wall-clock time for the sweep to handle every due clock, with one worker and then — on a second
copy of the data — with two worker processes at once (SKIP LOCKED). The run checks that every clock fired
each threshold exactly once. The figures replace the "Deadline sweep" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Deadline sweep (bench/sweep.py)"
SEED = 100
CST = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=CST)  # a Monday: dispatched then
NOW = dt.datetime(2026, 11, 4, 12, 0, tzinfo=CST)  # the accept limit (1 working day) is long past


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    os.environ.setdefault("SECRET_KEY", "bench-sweep-not-a-secret-0123456789abcdef")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(database_url: str, n_cases: int) -> float:
    """Migrate, load the geography, make SEED real cases and clone them to n_cases. Returns seconds."""
    setup_django(database_url)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from civicgrid.demo.context import DemoContext

    ctx = DemoContext(data_dir=ROOT.parent / "shared" / "data", say=lambda _: None)
    import importlib

    for step in ("civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo"):
        importlib.import_module(step).load(ctx)
    seed_cases()
    clone_cases(n_cases)
    return time.perf_counter() - started


def seed_cases() -> None:
    from civicgrid.cases.actions import do_create_case, do_dispatch, do_register
    from civicgrid.cases.models import Category
    from civicgrid.cases.notify import suppressed
    from civicgrid.grids.models import GridCell
    from civicgrid.jurisdictions.models import Unit
    from civicgrid.lib.clock import frozen
    from civicgrid.lib.geometry import from_geojson

    category = Category.objects.create(code="01", name="城乡建设", path="01/", depth=1)
    lead = Unit.objects.get(code="430103-cg")
    cells = list(GridCell.objects.order_by("code")[:SEED])
    with frozen(T0), suppressed():
        for i, cell in enumerate(cells):
            point = from_geojson(cell.boundary).representative_point()
            case, _ = do_create_case(
                channel="hotline",
                nature="complaint",
                title=f"测试诉求 {i}",
                description="路面破损，请尽快处理。",
                reporter_name="张三",
                reporter_phone="13812345678",
                lon=point.x,
                lat=point.y,
                actor=None,
            )
            do_register(case, category=category, actor=None)
            do_dispatch(case, lead=lead, actor=None)


def clone_cases(n_cases: int) -> None:
    """Harness only: copy the seeded cases (and their events, assignment, clocks) until there are n_cases."""
    from django.db import transaction
    from django.db.models import F

    from civicgrid.cases.models import Case, CaseAssignment, CaseClock, CaseEvent

    seeds = list(Case.objects.order_by("pk"))
    events = {c.pk: list(CaseEvent.objects.filter(case=c).order_by("seq")) for c in seeds}
    assignments = {c.pk: list(CaseAssignment.objects.filter(case=c)) for c in seeds}
    clocks = {c.pk: list(CaseClock.objects.filter(case=c)) for c in seeds}
    made = len(seeds)
    batch = 2000
    while made < n_cases:
        with transaction.atomic():
            copies = []
            sources = []
            for k in range(min(batch, n_cases - made)):
                source = seeds[(made + k) % len(seeds)]
                copy = Case(**_fields(source))
                copy.pk = None
                copy.number = f"BENCH-{made + k:07d}"
                copy.intake_key = None
                copies.append(copy)
                sources.append(source)
            Case.objects.bulk_create(copies, batch_size=1000)
            rows_e, rows_a, rows_c = [], [], []
            for copy, source in zip(copies, sources, strict=True):
                rows_e += [
                    CaseEvent(**{**_fields(e), "id": None, "case_id": copy.pk}) for e in events[source.pk]
                ]
                rows_a += [
                    CaseAssignment(**{**_fields(a), "id": None, "case_id": copy.pk})
                    for a in assignments[source.pk]
                ]
                rows_c += [
                    CaseClock(**{**_fields(c), "id": None, "case_id": copy.pk}) for c in clocks[source.pk]
                ]
            CaseEvent.objects.bulk_create(rows_e, batch_size=2000)
            CaseAssignment.objects.bulk_create(rows_a, batch_size=2000)
            CaseClock.objects.bulk_create(rows_c, batch_size=2000)
        made += len(copies)
    # The warning fired on an earlier round (as it does with a running worker): the deadline is what is due.
    CaseClock.objects.filter(stage="accept", state="running").update(
        timing="warning", next_fire_at=F("deadline_at")
    )


def _fields(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}  # type: ignore[attr-defined]


def sweep_worker(database_url: str, worker_id: str, batch: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    setup_django(database_url)
    from civicgrid.cases.sweep import sweep_due_clocks
    from civicgrid.core.worker import WorkerContext

    total = 0
    started = time.perf_counter()
    while handled := sweep_due_clocks(WorkerContext(worker_id=worker_id, now=NOW, batch=batch)):
        total += handled
    out.put((worker_id, total, time.perf_counter() - started))


def run_sweep(database_url: str, workers: int, batch: int) -> tuple[float, list[tuple[str, int, float]]]:
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [
        ctx.Process(target=sweep_worker, args=(database_url, f"w{i}", batch, out)) for i in range(workers)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return time.perf_counter() - started, results


def check(database_url: str, n_cases: int) -> dict[str, int]:
    """Every clock fired each threshold once; the rules urged twice per case."""
    from django.db.models import Count

    from civicgrid.cases.models import Case, CaseClock, CaseEvent, SupervisionOrder
    from civicgrid.notifications.models import Notification

    per_case = (
        CaseEvent.objects.filter(code="clock.overdue")
        .values("case_id", "code")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    counts = {
        "cases": Case.objects.count(),
        "overdue_events": CaseEvent.objects.filter(code="clock.overdue").count(),
        "urges": SupervisionOrder.objects.filter(kind="urge").count(),
        "notifications": Notification.objects.count(),
        "still_due": CaseClock.objects.filter(state="running", next_fire_at__lte=NOW).count(),
        "duplicate_firings": per_case,
    }
    assert counts["cases"] == n_cases, counts
    assert counts["overdue_events"] == n_cases, counts
    assert counts["urges"] == n_cases, counts
    assert counts["still_due"] == 0, counts
    assert per_case == 0, counts
    return counts


def fresh_database(base_url: str, name: str) -> str:
    """A new empty database next to the one in base_url (PostgreSQL) or a temp SQLite file."""
    if base_url.startswith("sqlite"):
        path = Path(tempfile.mkdtemp(prefix="cg-sweep-")) / f"{name}.sqlite3"
        return f"sqlite:///{path}"
    import psycopg

    admin = re.sub(r"/[^/]*$", "/postgres", base_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", base_url)


@dataclass
class Phase:
    workers: int
    prepare_s: float
    wall_s: float
    per_worker: list[tuple[str, int, float]]
    check: str
    rate: float = 0.0


def phase(database_url: str, n_cases: int, workers: int, batch: int) -> Phase:
    """Prepare in a child process (Django set up there), then sweep with worker processes."""
    prep = subprocess.run(
        [sys.executable, __file__, "--prepare-only", "--database-url", database_url, "--cases", str(n_cases)],
        check=True,
        capture_output=True,
        text=True,
    )
    prepare_s = float(prep.stdout.strip().splitlines()[-1])
    wall, results = run_sweep(database_url, workers, batch)
    verify = subprocess.run(
        [sys.executable, __file__, "--check-only", "--database-url", database_url, "--cases", str(n_cases)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Phase(workers, prepare_s, wall, results, verify.stdout.strip().splitlines()[-1])


def machine_line(database_url: str) -> str:
    cpu = "unknown CPU"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    db = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    if db == "PostgreSQL":
        import psycopg

        with psycopg.connect(database_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            db += f" {row[0] if row else '?'}"
    return f"{cpu}, {cores} cores, {db}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--workers", default="1,2", help="worker counts to measure, each on a fresh copy (default: 1,2)"
    )
    parser.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare_only:
        print(prepare(args.database_url, args.cases))
        return
    if args.check_only:
        setup_django(args.database_url)
        print(check(args.database_url, args.cases))
        return

    base = "sqlite:///" if args.sqlite else os.environ.get("DATABASE_URL", "")
    if not base.startswith(("sqlite", "postgres")):
        sys.exit("Run under scripts/with-postgres.sh (DATABASE_URL) or pass --sqlite.")
    phases: list[Phase] = []
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    for workers in counts if not args.sqlite else (1,):
        url = fresh_database(base, f"civicgrid_sweep_{workers}")
        result = phase(url, args.cases, workers, args.batch)
        result.rate = args.cases / result.wall_s
        print(
            f"{workers} worker(s): {args.cases:,} due deadlines in {result.wall_s:.1f} s = {result.rate:,.0f}/s; "
            f"set-up {result.prepare_s:.0f} s; per worker {[(w, n) for w, n, _ in result.per_worker]}"
        )
        print(f"  check: {result.check}", flush=True)
        phases.append(result)
        machine = machine_line(url)
        if not args.no_doc:  # after every phase: a long run that is stopped keeps what it measured
            write_doc(machine, args.cases, args.batch, phases, sqlite=args.sqlite)
    print(f"machine: {machine_line(url)}")


def write_doc(machine: str, n_cases: int, batch: int, phases: list[Phase], *, sqlite: bool) -> None:
    rows = [
        "| workers | due deadlines | wall time | deadlines/s | each worker handled |",
        "|---|---|---|---|---|",
    ]
    for p in phases:
        per = ", ".join(f"{n:,}" for _, n, _ in p.per_worker)
        rows.append(f"| {p.workers} | {n_cases:,} | {p.wall_s:.1f} s | {p.rate:,.0f} | {per} |")
    section = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine}.",
        "",
        f"{n_cases:,} dispatched cases whose accept clock (1 working day) fired its 80 % warning earlier and "
        "is now past its deadline: each costs a `clock.overdue` event and, by the default rule, an `urge` "
        "action (locked case update, event, supervision record, in-app notifications to the unit's "
        "handlers). The cases are "
        f"{SEED} real intakes (register + dispatch through the actions) cloned by the harness; batches of "
        f"{batch}. After each run the script checks that every clock fired each threshold exactly once and "
        "nothing is left due"
        + (
            " (two workers at once: SKIP LOCKED; no threshold fired twice)."
            if any(p.workers > 1 for p in phases)
            else "."
        ),
        "",
        *rows,
        "",
        "Command: `make bench-sweep` (`scripts/with-postgres.sh .venv/bin/python bench/sweep.py`).",
        "",
    ]
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    lines = text.rstrip("\n").split("\n")
    if SECTION in lines:
        start = lines.index(SECTION)
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        lines[start:end] = section
    else:
        lines += ["", *section]
    DOC.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    print(f"wrote {SECTION!r} in {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
