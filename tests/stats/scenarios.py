"""Hand-built scenarios for tests/stats/test_metrics.py: cases driven through the real case actions at chosen
Asia/Shanghai times, the worker's refresh, and the check that every way of reading the figures gives the
same numbers.

Every action here is the system's (actor None), so the tests are about what is counted, not about who may
act. Each action runs under ``clock.frozen(when)``: its event, clocks and ``received_at`` / ``closed_at``
carry that time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from fractions import Fraction
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from civicgrid.cases import sweep
from civicgrid.cases.actions import do_accept, do_dispatch, do_register, do_reply, do_revisit, do_verify
from civicgrid.cases.models import Case, Category
from civicgrid.core.worker import WorkerContext
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib import clock
from civicgrid.stats import check
from civicgrid.stats.definitions import Dim
from civicgrid.stats.facts import Fact
from civicgrid.stats.figures import (
    Counts,
    Durations,
    Period,
    breakdown,
    durations,
    median_of,
    scan_breakdown,
    scan_histogram,
    scan_totals,
    totals,
)
from civicgrid.stats.models import CaseFact
from civicgrid.stats.refresh import do_rebuild, do_refresh, fact_from_row
from tests.cases.helpers import BJT_POINT, Catalog, new_case, unit
from tests.world import World

T = TypeVar("T")

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The day the figures are read on: after every scenario, so each period is read as it stands at the end
# (and a period that is not whole months is an "odd run of days", read by scanning the facts).
TODAY = date(2027, 3, 1)

TIANXIN, YUHUA, CITY = "430103", "430111", "430100"
BAJIAOTING = "430103002001"  # 八角亭社区, where BJT_POINT lies (grid cell 430103002001001)
CG, ZJ = "430103-cg", "430103-zj"  # 天心区城管局, 天心区住建局


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A wall-clock time in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def take_in(
    world: World,
    when: datetime,
    *,
    actor: str | None = None,
    point: tuple[float, float] = BJT_POINT,
    **fields: Any,
) -> Case:
    """受理 at ``when`` (a resident's request from the public by default: the county's desk owns it)."""
    with clock.frozen(when):
        return new_case(world, actor=actor, point=point, **fields)


def on(when: datetime, act: Callable[..., T], case: Case, **kwargs: Any) -> T:
    """Perform a case action as the system at ``when``, on the case as it is now (the sweep may have
    changed it since the caller's copy was read)."""
    case.refresh_from_db()
    with clock.frozen(when):
        return act(case, actor=None, **kwargs)


def signed_for(
    world: World,
    received: datetime,
    category: Category,
    *,
    lead: str = CG,
    point: tuple[float, float] = BJT_POINT,
    **fields: Any,
) -> Case:
    """Taken in at ``received`` and registered, dispatched and signed for in the same minute (every
    deadline up to handling met)."""
    case = take_in(world, received, point=point, **fields)
    on(received, do_register, case, category=category)
    on(received, do_dispatch, case, lead=unit(world, lead))
    on(received, do_accept, case)
    return case


def replied_and_verified(case: Case, when: datetime) -> Case:
    """The unit's reply and the verification that closes the case (结案), both at ``when``."""
    on(when, do_reply, case, reply="已处理完毕")
    on(when, do_verify, case, passed=True)
    return case


def handled(
    world: World,
    catalog: Catalog,
    received: datetime,
    closed: datetime,
    *,
    category: Category | None = None,
    lead: str = CG,
    point: tuple[float, float] = BJT_POINT,
    **fields: Any,
) -> Case:
    """A whole handling by a unit: received at ``received``, closed (verified) at ``closed``."""
    case = signed_for(world, received, category or catalog.road, lead=lead, point=point, **fields)
    return replied_and_verified(case, closed)


def revisit(case: Case, when: datetime, satisfaction: str, resolution: str) -> None:
    """回访 with the resident's answer (an unsatisfied resident's reason is required)."""
    comment = "仍未解决" if satisfaction == "unsatisfied" else ""
    on(
        when,
        do_revisit,
        case,
        channel="phone",
        satisfaction=satisfaction,
        resolution=resolution,
        comment=comment,
    )


def unreached_revisit(case: Case, when: datetime) -> None:
    """A revisit that did not reach the resident: "not rated", no answer."""
    on(when, do_revisit, case, channel="phone", satisfaction="", reached=False)


def run_sweep(now: datetime) -> int:
    """The worker's deadline sweep at ``now``: fires the thresholds every running clock has crossed."""
    with clock.frozen(now):
        return sweep.sweep_due_clocks(WorkerContext(worker_id="t", now=now, batch=100))


def refresh() -> int:
    """The worker's refresh: folds every journalled change into the facts and rollups."""
    return do_refresh(actor=None, limit=10**6)


def fact(case: Case) -> Fact:
    """The case's fact row as counted (``counts``: its received-axis counters)."""
    return fact_from_row(CaseFact.objects.get(case_id=case.pk))


def figures(node: Jurisdiction, period: Period, today: date = TODAY) -> Counts:
    """The node's totals for the period, read from the rollups, after checking they equal the fact scan."""
    counts = totals(node, period, today)
    assert counts == scan_totals(node, period), (node.code, period)
    return counts


def only(counts: Counts, *names: str) -> dict[str, int]:
    """The named counters (for asserting several at once with a readable diff)."""
    return {name: counts[name] for name in names}


def _nonzero(rows: dict[str, Counts]) -> dict[str, Counts]:
    # The incremental path leaves all-zero monthly rows behind when a case moves to another key (another
    # lead unit, say); they count for nothing (stats/check.py).
    return {key: row for key, row in rows.items() if any(row.values())}


def _scanned_durations(node: Jurisdiction, period: Period, counts: Counts) -> Durations:
    timed = counts["timed"]
    average = Fraction(counts["handling_minutes"], timed * 60) if timed else None
    return Durations(timed, average, median_of(scan_histogram(node, period)))


def check_paths(world: World, *periods: Period, today: date = TODAY) -> None:
    """Every read path gives the same numbers for every area node and period: the daily rollup equals the
    plain fact scan; the median from the monthly histogram equals the one from the scan; for whole months,
    each breakdown (monthly rollup) equals its scan, a total narrowed to one key equals that key's row of
    the breakdown and the narrowed scan, and channels and natures partition the totals; and the figures
    kept by the refresh equal a rebuild from scratch."""
    for node in world.jurisdictions.values():
        for period in periods:
            where = (node.code, period)
            counts = totals(node, period, today)
            assert counts == scan_totals(node, period), where
            assert durations(node, period, today) == _scanned_durations(node, period, counts), where
            if not period.whole_months_until(today):
                continue  # breakdowns of an odd run of days are the scan itself
            for dim in Dim:
                rows = _nonzero(breakdown(node, period, today, dim))
                assert rows == _nonzero(scan_breakdown(node, period, dim)), (*where, dim)
                for key, row in rows.items():
                    assert totals(node, period, today, dim, key) == row, (*where, dim, key)
                    assert scan_totals(node, period, dim, key) == row, (*where, dim, key)
                if dim in (Dim.CHANNEL, Dim.NATURE):  # every case has exactly one of each
                    summed = {c: sum(row[c] for row in rows.values()) for c in counts}
                    assert summed == counts, (*where, dim)
    kept = check.snapshot()
    do_rebuild(actor=None)
    assert check.differences(kept, check.snapshot()) == []
