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

from django.db.models import Count

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
    data: dict[str, str] | None = None  # a POST's form fields
    htmx: bool = False  # sent as htmx sends it (HX-Request): the fragment, not the whole page


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
        PageSpec("resident", "report form", "", lambda: "/report/"),
        PageSpec("resident", "similar requests nearby (htmx)", "", _similar, htmx=True),
        PageSpec("resident", "receipt", "", lambda: f"/track/{_portal_secret()}/receipt/"),
        PageSpec("resident", "tracking page", "", lambda: f"/track/{_portal_secret()}/"),
        PageSpec("hotline operator", "intake desk", "tx_hotline", lambda: "/hotline/"),
        PageSpec(
            "hotline operator",
            "knowledge search (htmx)",
            "tx_hotline",
            lambda: "/hotline/knowledge/?q=社保卡",
            htmx=True,
        ),
        PageSpec(
            "hotline operator",
            "repeat-caller lookup (htmx)",
            "tx_hotline",
            lambda: "/hotline/caller/",
            method="POST",
            data={"phone": "13800000000"},
            htmx=True,
        ),
        PageSpec(
            "hotline operator",
            "call confirmation",
            "tx_hotline",
            lambda: f"/hotline/calls/{_case_number(channel='hotline', origin__code__startswith='430103')()}/",
        ),
        PageSpec("window clerk", "window desk", "pzj_window", lambda: "/window/"),
        PageSpec(
            "window clerk",
            "window desk, item chosen",
            "pzj_window",
            lambda: f"/window/?item={_service_item()}",
        ),
        PageSpec("window clerk", "visit list", "pzj_window", lambda: "/window/visits/"),
        PageSpec("window clerk", "visit page", "pzj_window", lambda: f"/window/visits/{_visit('notice')}/"),
        PageSpec(
            "window clerk",
            "一次性告知书 (print)",
            "pzj_window",
            lambda: f"/window/visits/{_visit('notice')}/notice/",
        ),
        PageSpec(
            "window clerk",
            "receipt (print)",
            "pzj_window",
            lambda: f"/window/visits/{_visit('accepted')}/receipt/",
        ),
        PageSpec("grid worker", "my grid (phone)", "bjt_grid1", lambda: "/field/"),
        PageSpec("grid worker", "report an event (phone)", "bjt_grid1", lambda: "/field/report/"),
        PageSpec("grid worker", "my tasks (phone)", "bjt_grid1", lambda: "/field/tasks/"),
        PageSpec(
            "grid worker", "a task: verify (phone)", "bjt_grid1", lambda: f"/field/tasks/{_grid_task()}/"
        ),
        PageSpec("grid worker", "household visits (phone)", "bjt_grid1", lambda: "/field/visits/"),
        PageSpec("grid worker", "log a household visit (phone)", "bjt_grid1", lambda: "/field/visits/new/"),
        PageSpec("grid worker", "grid map", "bjt_grid1", lambda: "/map/?j=430103002001"),
        PageSpec("leader", "overview of the district", "tx_leader", lambda: "/overview/"),
        PageSpec("leader", "overview map data", "tx_leader", lambda: "/overview/map.geojson"),
        PageSpec("leader", "overview of a street", "tx_leader", lambda: "/overview/?j=430103002"),
    ]


def _portal_secret() -> str:
    from civicgrid.demo.context import DemoContext
    from civicgrid.portal.demo import STORIES, _form_key
    from civicgrid.portal.links import secret_for

    # The demo's tracking links derive from fixed form keys (civicgrid/portal/demo.py prints them too).
    return secret_for(_form_key(DemoContext(data_dir=ROOT, say=print), STORIES[0][0]))


def _similar() -> str:
    from civicgrid.cases.models import Case

    case = Case.objects.filter(status="handling", lon__isnull=False).order_by("-received_at").first()
    if case is None:
        raise SystemExit("the demo has no open case with a point")
    return f"/report/similar/?lon={case.lon}&lat={case.lat}"


def _service_item() -> str:
    from civicgrid.services.models import ServiceItem

    item = ServiceItem.objects.annotate(n=Count("materials")).order_by("-n", "code").first()
    if item is None:
        raise SystemExit("the demo has no service items")
    return item.code


def _visit(outcome: str) -> str:
    from civicgrid.services.models import WindowVisit

    visit = (
        WindowVisit.objects.filter(outcome=outcome, service_center__code__startswith="430103002")
        .order_by("-pk")
        .first()
    )
    if visit is None:
        raise SystemExit(f"the demo has no {outcome} visit at 坡子街")
    return visit.number


def _grid_task() -> str:
    from civicgrid.accounts.models import User
    from civicgrid.cases.models import Case

    worker = User.objects.get(username="bjt_grid1")
    case = (
        Case.objects.filter(status="replied", grid_cell__in=worker.grid_cells.all()).order_by("-pk").first()
    )
    if case is None:
        raise SystemExit("the demo has no reply waiting for bjt_grid1 to verify")
    return case.number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--cases", type=int, default=None, help="load_demo --cases N (default: all)")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="use (and keep) the database in DIR: loaded on the first run, reused after (load_demo is idempotent)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-") as scratch:
        var_dir = args.keep or scratch
        # A private embedded database: never the developer's var/ or a DATABASE_URL from the shell.
        os.environ["CIVICGRID_VAR_DIR"] = var_dir
        os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        print(f"database: {var_dir}/civicgrid.sqlite3{'' if args.keep else ' (temporary)'}")
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
        write_doc(machine, sizes, load_demo_s, lines, results, reused=bool(args.keep))
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

    # 127.0.0.1 is in ALLOWED_HOSTS (the test runner's "testserver" is not: this is not a test run).
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN", HTTP_HOST="127.0.0.1")
    if spec.username:
        client.force_login(
            User.objects.get(username=spec.username), backend="django.contrib.auth.backends.ModelBackend"
        )
    path = spec.path()

    def fetch(path: str) -> Any:
        headers = {"HX-Request": "true"} if spec.htmx else {}
        if spec.method == "GET":
            return client.get(path, headers=headers)
        return client.post(path, spec.data or {}, headers=headers)

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
    machine: str, sizes: str, load_demo_s: float, lines: list[str], results: list[PageResult], *, reused: bool
) -> None:
    worst = max(results, key=lambda r: r.p95)
    section = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine}.",
        "",
        f"Data: the demo district from `load_demo` ({sizes}; "
        + ("a database kept from an earlier run, `--keep`" if reused else f"loading took {load_demo_s:.0f} s")
        + ", not measured). "
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
