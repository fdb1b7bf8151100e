"""Proof that the incrementally kept figures equal a recount: snapshot, rebuild, compare.

``stats_check`` (command) and tests/stats/test_rollup.py use it. Rows whose counters are all zero are left
out of a snapshot: the incremental path leaves them behind when a case moves to another key (say, another
lead unit), the rebuild never writes them, and they count for nothing either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civicgrid.stats.definitions import COUNTER_CODES
from civicgrid.stats.models import CaseFact, DailyFigures, MonthlyDuration, MonthlyFigures

Snapshot = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


def snapshot() -> Snapshot:
    """The facts and the non-zero rollup rows, keyed."""
    fact_fields = [f.attname for f in CaseFact._meta.concrete_fields]
    return {
        "facts": {(r[0],): tuple(r[1:]) for r in CaseFact.objects.values_list(*fact_fields)},
        "daily": {
            tuple(r[:2]): tuple(r[2:])
            for r in DailyFigures.objects.values_list("node_id", "day", *COUNTER_CODES)
            if any(r[2:])
        },
        "monthly": {
            tuple(r[:4]): tuple(r[4:])
            for r in MonthlyFigures.objects.values_list("node_id", "dim", "month", "key", *COUNTER_CODES)
            if any(r[4:])
        },
        "duration": {
            tuple(r[:3]): (r[3],)
            for r in MonthlyDuration.objects.values_list("node_id", "month", "hours", "cases")
            if r[3]
        },
    }


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    kept: tuple[Any, ...] | None
    recounted: tuple[Any, ...] | None


def differences(kept: Snapshot, recounted: Snapshot, limit: int = 20) -> list[Difference]:
    out = []
    for table, rows in recounted.items():
        other = kept[table]
        for key in sorted(set(rows) | set(other), key=repr):
            if rows.get(key) != other.get(key):
                out.append(Difference(table, key, other.get(key), rows.get(key)))
                if len(out) >= limit:
                    return out
    return out
