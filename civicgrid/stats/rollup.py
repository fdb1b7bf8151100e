"""Keeping the rollups equal to the facts: contributions, deltas and the upserts that apply them.

A fact contributes its received-axis counters to the rows of its receipt day / month and its closed-axis
counters to the rows of its closing day / month, under each of its area nodes (and, monthly, each of its
breakdown keys). Changing a fact subtracts the old contributions and adds the new ones; the net deltas of
a batch are applied with one upsert per table (``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``,
the same statement on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection

from civicgrid.stats.definitions import CLOSED_COUNTERS, COUNTER_CODES, RECEIVED_COUNTERS
from civicgrid.stats.facts import Fact
from civicgrid.stats.keys import Keys
from civicgrid.stats.models import DailyFigures, MonthlyDuration, MonthlyFigures

N = len(COUNTER_CODES)
_R = [COUNTER_CODES.index(c) for c in RECEIVED_COUNTERS]
_X = {c: COUNTER_CODES.index(c) for c in CLOSED_COUNTERS}

DailyKey = tuple[int, date]  # node, day
MonthlyKey = tuple[int, str, date, str]  # node, dim, month, key
DurationKey = tuple[int, date, int]  # node, month, whole hours


class Deltas:
    """Net changes to the three rollup tables, accumulated over a batch of facts."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.daily: dict[DailyKey, list[int]] = defaultdict(lambda: [0] * N)
        self.monthly: dict[MonthlyKey, list[int]] = defaultdict(lambda: [0] * N)
        self.duration: dict[DurationKey, int] = defaultdict(int)

    def add(self, fact: Fact, sign: int) -> None:
        received = [0] * N
        for i, code in zip(_R, RECEIVED_COUNTERS, strict=True):
            received[i] = fact.counts[code] * sign
        closed = None
        if fact.closed_day is not None:
            closed = [0] * N
            closed[_X["closed_in_period"]] = sign
            closed[_X["closed_in_period_on_time"]] = fact.closed_on_time * sign
            if fact.handling_minutes is not None:
                closed[_X["timed"]] = sign
                closed[_X["handling_minutes"]] = fact.handling_minutes * sign
        dims = self.keys.dims(fact)
        for node in self.keys.nodes(fact.origin_id, fact.owner_id):
            _plus(self.daily[(node, fact.received_day)], received)
            for dim, key in dims:
                _plus(self.monthly[(node, dim, fact.received_month, key)], received)
            if closed is not None:
                assert fact.closed_month is not None
                _plus(self.daily[(node, fact.closed_day)], closed)  # type: ignore[index]
                for dim, key in dims:
                    _plus(self.monthly[(node, dim, fact.closed_month, key)], closed)
                if fact.handling_minutes is not None:
                    self.duration[(node, fact.closed_month, fact.handling_minutes // 60)] += sign

    def apply(self) -> int:
        """Write the non-zero deltas; returns the number of rows touched."""
        daily = [(*k, *v) for k, v in self.daily.items() if any(v)]
        monthly = [(*k, *v) for k, v in self.monthly.items() if any(v)]
        duration = [(*k, v) for k, v in self.duration.items() if v]
        _upsert(DailyFigures, ["node_id", "day"], COUNTER_CODES, daily)
        _upsert(MonthlyFigures, ["node_id", "dim", "month", "key"], COUNTER_CODES, monthly)
        _upsert(MonthlyDuration, ["node_id", "month", "hours"], ("cases",), duration)
        return len(daily) + len(monthly) + len(duration)


def _plus(target: list[int], values: list[int]) -> None:
    for i, v in enumerate(values):
        if v:
            target[i] += v


def _upsert(model: Any, key: list[str], counters: Iterable[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    table = model._meta.db_table
    counters = list(counters)
    columns = ", ".join(f'"{c}"' for c in [*key, *counters])
    marks = ", ".join(["%s"] * (len(key) + len(counters)))
    sets = ", ".join(f'"{c}" = "{table}"."{c}" + excluded."{c}"' for c in counters)
    sql = (
        f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) '
        f"ON CONFLICT ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in key)}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as c:
        c.executemany(sql, rows)
