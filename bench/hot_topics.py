"""Benchmark: computing the hot topics (热点问题) for a month of cases.

Run from the project root:  .venv/bin/python bench/hot_topics.py [--sizes 10000,30000] [--no-demo]

Two measurements, each in a throwaway SQLite database in a temporary directory:

1. **The demo month**: a copy of the demo database (var/civicgrid.sqlite3, made by ``make run`` or
   ``manage.py load_demo``; skipped when it is missing), migrated, then ``do_compute_hot_topics`` for the
   last 30 days, three times (the first includes loading jieba's dictionary, half a second, once per
   process).
2. **Generated months** of N cases: the demo geography (jurisdictions, staff, grid cells), then N cases
   inserted directly (a harness bulk insert, not the intake) from the real message texts
   (../shared/data/messages/, both files), times spread evenly over the month. 20 % are *recurring
   matters*: one of n/20 messages chosen for the month, its title and its description from a random
   offset (so repeats are not word for word the same), within ~300 m of the message's own grid cell. The
   other 80 % are matters of their own: a 20-character title cut from one message and a description from
   another, in a random grid cell. Residents' supports are added to 5 % of the cases (1–20 each).

Measured: wall-clock time of ``do_compute_hot_topics`` (reading the cases, the grouping, writing the run),
and separately the read and the pure grouping. Figures replace the "Hot topics" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Hot topics (bench/hot_topics.py)"
COMMAND = ".venv/bin/python bench/hot_topics.py"
MESSAGES = ROOT.parent / "shared" / "data" / "messages"
RECURRING_SHARE = 0.2
DEMO_DB = ROOT / "var" / "civicgrid.sqlite3"


@dataclass
class Measure:
    label: str
    n_cases: int = 0
    topics: int = 0
    largest: int = 0
    read_s: float = 0.0
    group_s: float = 0.0
    total_s: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    os.environ.setdefault("SECRET_KEY", "bench-hot-topics-not-a-secret-0123456789abcdef")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def switch_database(path: Path) -> None:
    """Point the default connection at another SQLite file (Django is set up once per process)."""
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = str(path)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def measure(label: str, repeats: int) -> Measure:
    from datetime import timedelta

    from civicgrid.lib import clock
    from civicgrid.triage import hot
    from civicgrid.triage.actions.hot import do_compute_hot_topics, window_cases
    from civicgrid.triage.policy import policy

    result = Measure(label)
    now = clock.now()
    for _ in range(repeats):
        started = time.perf_counter()
        run = do_compute_hot_topics(now=now, actor=None)
        result.total_s.append(time.perf_counter() - started)
    result.n_cases = run.n_cases
    topics = list(run.topics.order_by("rank"))
    result.topics = len(topics)
    result.largest = max((t.size for t in topics), default=0)
    result.examples = [f"{t.title} ({t.size}, {t.place or '—'})" for t in topics[:5]]
    row = policy()
    start = now - timedelta(days=row.hot_window_days)
    started = time.perf_counter()
    cases = window_cases(start, now)
    result.read_s = time.perf_counter() - started
    settings = hot.HotSettings(
        window_start=start,
        window_end=now,
        radius_m=float(row.hot_radius_m),
        min_similarity=float(row.hot_min_similarity),
        min_cases=row.hot_min_cases,
    )
    started = time.perf_counter()
    hot.hot_topics(cases, settings)
    result.group_s = time.perf_counter() - started
    return result


def demo_month(tmp: Path) -> Measure | None:
    if not DEMO_DB.exists():
        print(f"no demo database at {DEMO_DB}: the demo month is skipped")
        return None
    copy = tmp / "demo.sqlite3"
    with sqlite3.connect(DEMO_DB) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    switch_database(copy)
    migrate()
    return measure("demo month", repeats=3)


def read_texts() -> list[tuple[str, str, str]]:
    texts = []
    for name in ("messages_with_replies.csv", "messages_with_votes.csv"):
        with (MESSAGES / name).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                texts.append((row["留言编号"].strip(), row["留言主题"].strip(), row["留言详情"].strip()))
    return texts


def generated_month(tmp: Path, n: int, template: Path) -> Measure:
    path = tmp / f"generated-{n}.sqlite3"
    shutil.copyfile(template, path)
    switch_database(path)
    fill(n)
    return measure(f"generated month, {n:,} cases", repeats=2)


def geography(tmp: Path) -> Path:
    """A migrated database with the demo geography, copied for each size."""
    path = tmp / "geography.sqlite3"
    switch_database(path)
    migrate()
    import importlib

    from civicgrid.demo.context import DemoContext

    ctx = DemoContext(data_dir=ROOT.parent / "shared" / "data", say=lambda _: None)
    for step in ("civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo"):
        importlib.import_module(step).load(ctx)
    from django.db import connections

    connections["default"].close()
    return path


def fill(n: int) -> None:
    """Harness only: n cases inserted directly (see the module docstring)."""
    import math

    from django.db import transaction
    from django.utils import timezone

    from civicgrid.cases.models import Case
    from civicgrid.grids.models import GridCell
    from civicgrid.lib.geometry import from_geojson
    from civicgrid.portal.models import Support

    rng = random.Random(n)
    texts = read_texts()
    recurring = rng.sample(texts, max(1, n // 20))  # the matters raised again and again this month
    cells = [
        (from_geojson(c.boundary).representative_point(), c.community)
        for c in GridCell.objects.select_related("community").order_by("code")
    ]
    now = timezone.now()
    start = now - dt.timedelta(days=30)
    cases = []
    for k in range(n):
        if rng.random() < RECURRING_SHARE:
            ident, title, body = rng.choice(recurring)
            body = body[rng.randrange(0, max(1, len(body) // 3)) :] or title
            point, community = cells[int(ident) % len(cells)]  # where this matter is
            jitter = 300.0
        else:
            # A matter of its own: a title cut from one message, a description from another, anywhere.
            _, _, first = rng.choice(texts)
            _, _, second = rng.choice(texts)
            cut = rng.randrange(0, max(1, len(first) - 20))
            title = first[cut : cut + 20] or "其他问题"
            body = second[rng.randrange(0, max(1, len(second) // 2)) :] or title
            point, community = rng.choice(cells)
            jitter = 150.0
        angle, radius = rng.uniform(0, 2 * math.pi), rng.uniform(0, jitter)
        lon = point.x + radius * math.cos(angle) / (111_320 * math.cos(math.radians(point.y)))
        lat = point.y + radius * math.sin(angle) / 110_540
        cases.append(
            Case(
                number=f"430100-2099-{k:07d}",
                channel="hotline",
                nature="complaint",
                title=title[:200],
                description=body,
                lon=lon,
                lat=lat,
                origin=community,
                origin_path=community.path,
                jurisdiction=community,
                level="community",
                level_path=community.path,
                status="handling",
                received_at=start + dt.timedelta(seconds=rng.uniform(60, 30 * 86400 - 60)),
            )
        )
    with transaction.atomic():
        made = Case.objects.bulk_create(cases, batch_size=2000)
        supports = [
            Support(case_id=c.pk, at=now, ip_digest=f"bench-{c.pk}-{j}")
            for c in made
            if rng.random() < 0.05
            for j in range(rng.randint(1, 20))
        ]
        Support.objects.bulk_create(supports, batch_size=5000)


def machine_line() -> str:
    import numpy as np
    import scipy

    cpu = platform.processor() or platform.machine()
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )


def table(results: list[Measure]) -> list[str]:
    lines = [
        "| month | cases in the window | topics | largest | read (s) | grouping (s) | whole action (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        runs = ", ".join(f"{s:.2f}" for s in r.total_s)
        lines.append(
            f"| {r.label} | {r.n_cases:,} | {r.topics} | {r.largest} | {r.read_s:.2f} | {r.group_s:.2f} | "
            f"{runs} (median {statistics.median(r.total_s):.2f}) |"
        )
    return lines


def write_doc(results: list[Measure]) -> None:
    examples = [f"- {r.label}: " + "; ".join(r.examples) for r in results if r.examples]
    section = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine_line()}.",
        "",
        "`do_compute_hot_topics` for the last 30 days (policy defaults: 1,500 m, similarity 0.30, at least 3 "
        "cases), in a throwaway SQLite database. *Whole action*: each run's wall-clock time (reading, "
        "grouping, writing the run; the first run of a process includes loading jieba's dictionary, about "
        "0.5 s). *Read* and *grouping* are measured again on their own. Generated months: the real message "
        "texts: 20 % recurring matters (n/20 messages, each at its own place ± 300 m), 80 % one-off texts "
        "anywhere, "
        "5 % of the cases with 1–20 supports — see the script's docstring. One run each on a shared "
        "machine: differences of a few tens of per cent mean little.",
        "",
        *table(results),
        "",
        "The top topics found:",
        "",
        *examples,
        "",
        f"Command: `{COMMAND}`.",
        "",
    ]
    text = (
        DOC.read_text(encoding="utf-8")
        if DOC.exists()
        else "# Benchmarks\n\nFigures from the scripts in `bench/`.\n"
    )
    lines = text.rstrip("\n").split("\n")
    if SECTION in lines:
        start = lines.index(SECTION)
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        lines[start:end] = section
    else:
        lines += ["", *section]
    DOC.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,30000", help="generated months (cases), comma-separated")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo month")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="bench-hot-") as name:
        tmp = Path(name)
        setup_django(f"sqlite:///{tmp / 'first.sqlite3'}")
        results: list[Measure] = []
        if not args.no_demo:
            demo = demo_month(tmp)
            if demo is not None:
                results.append(demo)
        if sizes:
            template = geography(tmp)
            for n in sizes:
                print(f"generating a month of {n:,} cases …", flush=True)
                results.append(generated_month(tmp, n, template))
        for line in table(results):
            print(line)
        for r in results:
            print(r.label, "—", "; ".join(r.examples))
    if not args.no_doc:
        write_doc(results)


if __name__ == "__main__":
    main()
