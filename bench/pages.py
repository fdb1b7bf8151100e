"""Benchmark: server time of every page on the main paths of each role, with the demo district's data.

Run from the project root:  .venv/bin/python bench/pages.py   (or `make bench-pages`)

Builds a throwaway SQLite database (migrate + load_demo: the whole demo district, about 3,200 cases),
then requests each page as its demo persona through Django's test client, in-process: a few warm-up
requests, then REPEATS measured ones. The time is the ``Server-Timing: app;dur=`` header of the
response (civicgrid/core/middleware.py: everything from the first middleware to the rendered response,
including the database), so the client's own overhead is not counted. The number of SQL queries per
request is reported beside it: a page whose count grows with the data would show up there first.
The target is 300 ms at p95 for every page. The figures replace the "Page times" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Page times (bench/pages.py)"
COMMAND = ".venv/bin/python bench/pages.py"
REPEATS = 20
WARMUP = 3
TARGET_MS = 300.0


@dataclass(frozen=True)
class PageSpec:
    role: str
    label: str
    username: str
    path: Callable[[], str]  # evaluated after load_demo: some pages need a case number or a secret
    method: str = "GET"


@dataclass
class PageResult:
    spec: PageSpec
    path: str
    status: int
    times_ms: list[float]
    queries: int

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _case_number(**filters: Any) -> Callable[[], str]:
    def find() -> str:
        from civicgrid.cases.models import Case

        case = Case.objects.filter(**filters).order_by("-received_at").first()
        if case is None:
            raise SystemExit(f"the demo has no case with {filters}")
        return case.number

    return find


def _case_page(**filters: Any) -> Callable[[], str]:
    number = _case_number(**filters)
    return lambda: f"/cases/{number()}/"


def pages() -> list[PageSpec]:
    """The main path of each role (issue 4), as its demo persona (civicgrid/accounts/demo.py)."""
    return [
        PageSpec("everyone", "login page", "", lambda: "/accounts/login/"),
        PageSpec("everyone", "workbench", "tx_dispatcher", lambda: "/"),
        PageSpec("dispatcher", "case list: all", "tx_dispatcher", lambda: "/cases/"),
        PageSpec("dispatcher", "case list: to dispatch", "tx_dispatcher", lambda: "/cases/?queue=dispatch"),
        PageSpec("dispatcher", "case list: overdue", "tx_dispatcher", lambda: "/cases/?queue=overdue"),
        PageSpec(
            "dispatcher",
            "case list: filtered (title, category, dates)",
            "tx_dispatcher",
            lambda: "/cases/?q=路&category=01&received_from=2026-01-01&received_to=2026-12-31",
        ),
        PageSpec(
            "dispatcher",
            "case page: registered case",
            "tx_dispatcher",
            _case_page(status="registered", jurisdiction__code__startswith="430103"),
        ),
        PageSpec("handler", "case list", "tx_cg_handler", lambda: "/cases/"),
        PageSpec(
            "handler",
            "case page: handling case with history",
            "tx_cg_handler",
            _case_page(status="handling", lead_unit__code="430103-cg"),
        ),
        PageSpec(
            "supervisor",
            "case page: replied case",
            "tx_supervisor",
            _case_page(status="replied", origin__code__startswith="430103"),
        ),
        PageSpec("supervisor", "case list: to verify", "tx_supervisor", lambda: "/cases/?queue=verify"),
        PageSpec("grid worker", "grid map", "bjt_grid1", lambda: "/map/?j=430103002001"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--cases", type=int, default=None, help="load_demo --cases N (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-") as var_dir:
        # A private embedded database: never the developer's var/ or a DATABASE_URL from the shell.
        os.environ["CIVICGRID_VAR_DIR"] = var_dir
        os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        print(f"database: {var_dir}/civicgrid.sqlite3 (temporary)")
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("load_demo", stdout=io.StringIO(), cases=args.cases)
        load_demo_s = time.perf_counter() - started
        print(f"load_demo: {load_demo_s:.1f} s")
        sizes = demo_sizes()
        results = [measure(spec) for spec in pages()]
        connection.close()
    machine = machine_line()
    lines = table(results)
    print(f"\nmachine: {machine}\nsizes: {sizes}\n")
    print("\n".join(lines))
    slow = [r for r in results if r.p95 >= TARGET_MS or r.status >= 400]
    print(
        f"\n{len(results) - len(slow)} of {len(results)} pages under {TARGET_MS:.0f} ms at p95 (and answering)"
    )
    if not args.no_doc:
        write_doc(machine, sizes, load_demo_s, lines, results)
        print(f"wrote the section {SECTION!r} in {DOC.relative_to(ROOT)}")
    if slow:
        raise SystemExit(1)


def demo_sizes() -> str:
    from civicgrid.accounts.models import User
    from civicgrid.cases.models import Case, CaseEvent
    from civicgrid.grids.models import GridCell

    return (
        f"{Case.objects.count():,} cases, {CaseEvent.objects.count():,} case events, "
        f"{GridCell.objects.count():,} grid cells, {User.objects.count():,} staff accounts"
    )


def measure(spec: PageSpec) -> PageResult:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from civicgrid.accounts.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    if spec.username:
        client.force_login(
            User.objects.get(username=spec.username), backend="django.contrib.auth.backends.ModelBackend"
        )
    path = spec.path()
    fetch = client.get if spec.method == "GET" else client.post
    for _ in range(WARMUP):
        fetch(path)
    times: list[float] = []
    status = 0
    queries = 0
    for i in range(REPEATS):
        with CaptureQueriesContext(connection) as captured:
            response = fetch(path)
        status = response.status_code
        match = re.search(r"app;dur=([0-9.]+)", response.get("Server-Timing", ""))
        if match is None:
            raise SystemExit(f"{path}: no Server-Timing header")
        times.append(float(match.group(1)))
        if i == 0:
            queries = len(captured.captured_queries)
    result = PageResult(spec, path, status, times, queries)
    print(f"  {spec.role:<12} {spec.label:<45} {result.p50:7.1f} ms p50 {result.p95:7.1f} ms p95  {status}")
    return result


def table(results: list[PageResult]) -> list[str]:
    rows = [
        "| role | page | persona | status | SQL queries | p50 | p95 | max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        flag = "" if r.p95 < TARGET_MS and r.status < 400 else " ⚠"
        rows.append(
            f"| {r.spec.role} | {r.spec.label} (`{r.path}`) | {r.spec.username or 'anonymous'} | {r.status} "
            f"| {r.queries} | {r.p50:.1f} ms | **{r.p95:.1f} ms**{flag} | {max(r.times_ms):.1f} ms |"
        )
    return rows


def machine_line() -> str:
    import django

    cpu = "unknown CPU"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores, Python {platform.python_version()}, Django {django.get_version()}, "
        f"SQLite, {platform.system()} {platform.machine()}"
    )


def write_doc(
    machine: str, sizes: str, load_demo_s: float, lines: list[str], results: list[PageResult]
) -> None:
    worst = max(results, key=lambda r: r.p95)
    section = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine}.",
        "",
        f"Data: the demo district from `load_demo` ({sizes}; loading took {load_demo_s:.0f} s, not measured). "
        f"Each page is requested as its demo persona through Django's test client, in-process, {WARMUP} "
        f"warm-up requests then {REPEATS} measured; the time is the response's `Server-Timing: app` header "
        "(all middleware, the view, the database and the template; not the network or the browser). "
        f"Target: under {TARGET_MS:.0f} ms at p95. Slowest page at p95: {worst.spec.label}, {worst.p95:.1f} ms.",
        "",
        *lines,
        "",
        f"Command: `{COMMAND}` (or `make bench-pages`).",
        "",
    ]
    text = DOC.read_text(encoding="utf-8")
    doc_lines = text.rstrip("\n").split("\n")
    if SECTION in doc_lines:
        start = doc_lines.index(SECTION)
        end = next(
            (k for k in range(start + 1, len(doc_lines)) if doc_lines[k].startswith("## ")), len(doc_lines)
        )
        doc_lines[start:end] = section
    else:
        doc_lines += ["", *section]
    DOC.write_text("\n".join(doc_lines).rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
