"""Benchmark: point → grid cell lookup over the demo district (长沙市天心区).

Run from the project root:  .venv/bin/python bench/grid_lookup.py

Builds a throwaway SQLite database (migrate + load_demo), throws 1,000,000 seeded random points into the
district's bounding box and measures, in one run: the index build, GridIndex.locate_many over every
point, a naive "every polygon contains?" loop over a random subsample (the baseline), and single-point
locate() latency. The figures replace the "Grid lookup" section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import io
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Grid lookup (bench/grid_lookup.py)"
COMMAND = ".venv/bin/python bench/grid_lookup.py"
SEED = 20260101
N_POINTS = 1_000_000
N_NAIVE = 20_000
N_SINGLE = 10_000
N_SINGLE_DB = 1_000
BUILD_REPEATS = 5
BULK_REPEATS = 3


@dataclass
class Results:
    machine: str
    cells: int
    vertices: int
    bbox: tuple[float, float, float, float]
    located_share: float
    build_ms: float
    load_and_build_ms: float
    bulk_s: float
    naive_s: float
    single_us: tuple[float, float]
    single_db_us: tuple[float, float]
    agree: int
    edge_mismatches: int
    other_mismatches: int
    load_demo_s: float

    @property
    def bulk_rate(self) -> float:
        return N_POINTS / self.bulk_s

    @property
    def naive_rate(self) -> float:
        return N_NAIVE / self.naive_s


def main() -> None:
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
        call_command("load_demo", stdout=io.StringIO())
        load_demo_s = time.perf_counter() - started
        print(f"load_demo: {load_demo_s:.1f} s")
        results = measure(load_demo_s)
        connection.close()
    report(results)
    write_doc(results)
    print(f"\nwrote the section {SECTION!r} in {DOC.relative_to(ROOT)}")


def machine_line() -> str:
    import shapely

    cpu = "unknown CPU"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores, Python {platform.python_version()}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), numpy {np.__version__}, "
        f"{platform.system()} {platform.machine()}"
    )


def measure(load_demo_s: float) -> Results:
    import shapely

    from civicgrid.grids.lookup import GridIndex, grid_index, locate_grid_cell, reset_grid_index
    from civicgrid.grids.models import GridCell
    from civicgrid.jurisdictions.models import Jurisdiction, Level
    from civicgrid.lib.geometry import from_geojson

    district = Jurisdiction.objects.get(code="430103", level=Level.COUNTY)
    assert district.boundary is not None, "load_demo left the district without a boundary"
    min_lon, min_lat, max_lon, max_lat = from_geojson(district.boundary).bounds
    rows: list[tuple[int, str, dict[str, Any]]] = list(
        GridCell.objects.filter(is_active=True).values_list("id", "code", "boundary")
    )
    if not rows:
        raise SystemExit("load_demo created no grid cells: nothing to measure")

    # (a) index build: from rows already in memory, and through grid_index() (query + build).
    builds = []
    for _ in range(BUILD_REPEATS):
        started = time.perf_counter()
        index = GridIndex.build(rows)
        builds.append(time.perf_counter() - started)
    reset_grid_index()
    started = time.perf_counter()
    grid_index()
    load_and_build = time.perf_counter() - started

    rng = np.random.default_rng(SEED)
    lons = rng.uniform(min_lon, max_lon, N_POINTS)
    lats = rng.uniform(min_lat, max_lat, N_POINTS)

    # (b) the vectorised bulk lookup over every point.
    bulk_times = []
    for _ in range(BULK_REPEATS):
        started = time.perf_counter()
        found = index.locate_many(lons, lats)
        bulk_times.append(time.perf_counter() - started)

    # (c) the naive baseline: every polygon, unprepared, in code order, on a random subsample.
    sample = rng.choice(N_POINTS, size=N_NAIVE, replace=False)
    ordered = sorted(rows, key=lambda row: row[1])
    polygons = [(pk, from_geojson(boundary)) for pk, _, boundary in ordered]
    naive = np.full(N_NAIVE, -1, dtype=np.int64)
    started = time.perf_counter()
    for k, i in enumerate(sample.tolist()):
        point = shapely.Point(lons[i], lats[i])
        for pk, polygon in polygons:
            if polygon.contains(point):
                naive[k] = pk
                break
    naive_s = time.perf_counter() - started

    # The two may differ only for a point on a cell edge: contains() excludes the boundary, the index
    # gives it to the lower code.
    agree = edge = other = 0
    for k, i in enumerate(sample.tolist()):
        if found[i] == naive[k]:
            agree += 1
            continue
        point = shapely.Point(lons[i], lats[i])
        on_edge = any(polygon.boundary.intersects(point) for _, polygon in polygons)
        edge += on_edge
        other += not on_edge
        print(f"mismatch{' (on an edge)' if on_edge else ''}: lon {lons[i]!r} lat {lats[i]!r}: ", end="")
        print(f"index {found[i]}, naive {naive[k]}")

    # (d) single-point latency.
    single = _latencies(lambda lon, lat: index.locate(lon, lat), lons[:N_SINGLE], lats[:N_SINGLE])
    single_db = _latencies(locate_grid_cell, lons[:N_SINGLE_DB], lats[:N_SINGLE_DB])

    return Results(
        machine=machine_line(),
        cells=len(rows),
        vertices=int(sum(shapely.get_num_coordinates(p) for _, p in polygons)),
        bbox=(min_lon, min_lat, max_lon, max_lat),
        located_share=float((found >= 0).mean()),
        build_ms=statistics.median(builds) * 1000,
        load_and_build_ms=load_and_build * 1000,
        bulk_s=statistics.median(bulk_times),
        naive_s=naive_s,
        single_us=single,
        single_db_us=single_db,
        agree=agree,
        edge_mismatches=edge,
        other_mismatches=other,
        load_demo_s=load_demo_s,
    )


def _latencies(locate: Any, lons: np.ndarray[Any, Any], lats: np.ndarray[Any, Any]) -> tuple[float, float]:
    """p50 and p99 in microseconds of one call per point."""
    samples = np.empty(len(lons))
    for k, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
        started = time.perf_counter_ns()
        locate(lon, lat)
        samples[k] = (time.perf_counter_ns() - started) / 1000
    p50, p99 = np.percentile(samples, [50, 99])
    return float(p50), float(p99)


def table(r: Results) -> list[str]:
    return [
        "| measure | result |",
        "|---|---|",
        f"| (a) index build from {r.cells} cells in memory (median of {BUILD_REPEATS}) "
        f"| {r.build_ms:.1f} ms |",
        f"| (a) `grid_index()`: read the rows + build | {r.load_and_build_ms:.1f} ms |",
        f"| (b) `GridIndex.locate_many`, {N_POINTS:,} points (median of {BULK_REPEATS}) "
        f"| {r.bulk_s:.2f} s → **{r.bulk_rate:,.0f} points/s** |",
        f"| (c) naive loop, every polygon `.contains(Point)`, {N_NAIVE:,}-point random subsample "
        f"| {r.naive_s:.2f} s → **{r.naive_rate:,.0f} points/s** |",
        f"| (b) ÷ (c) | {r.bulk_rate / r.naive_rate:,.0f}× |",
        f"| (d) `GridIndex.locate()` single point, {N_SINGLE:,} calls | p50 {r.single_us[0]:.1f} µs, "
        f"p99 {r.single_us[1]:.1f} µs |",
        f"| `locate_grid_cell()` (version query + row fetch), {N_SINGLE_DB:,} calls "
        f"| p50 {r.single_db_us[0]:.0f} µs, p99 {r.single_db_us[1]:.0f} µs |",
        f"| (b) = (c) on the subsample | {r.agree:,} of {N_NAIVE:,} agree; "
        f"{r.edge_mismatches} differ on an edge, "
        f"{r.other_mismatches} otherwise |",
    ]


def sizes(r: Results) -> str:
    min_lon, min_lat, max_lon, max_lat = r.bbox
    return (
        f"{r.cells} active grid cells ({r.vertices:,} vertices) from `load_demo`; "
        f"{N_POINTS:,} uniform random "
        f"points (numpy seed {SEED}) in the district's bounding box lon {min_lon:.4f}–{max_lon:.4f}, "
        f"lat {min_lat:.4f}–{max_lat:.4f}, of which {r.located_share:.1%} fall in a cell"
    )


def report(r: Results) -> None:
    print(f"\nmachine: {r.machine}")
    print(f"sizes: {sizes(r)}")
    for line in table(r):
        print(line)


def write_doc(r: Results) -> None:
    section = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {r.machine}.",
        "",
        f"Sizes: {sizes(r)}. The naive baseline runs on a random subsample only (it is about "
        f"{r.bulk_rate / r.naive_rate:,.0f} times slower); both methods must agree on it, except for a point "
        "exactly on a cell edge (`contains` excludes the edge; the index gives it to the lower code). "
        "SQLite database in a temporary directory; "
        f"`load_demo` took {r.load_demo_s:.0f} s and is not measured. One run, wall-clock time: on a "
        "shared machine repeat it before reading much into differences of a few tens of per cent.",
        "",
        *table(r),
        "",
        f"Command: `{COMMAND}` (or `make bench-grid`).",
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


if __name__ == "__main__":
    main()
