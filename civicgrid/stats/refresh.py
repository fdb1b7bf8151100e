"""The two writers of the statistics: ``do_refresh`` folds changed cases in, ``do_rebuild`` starts over.

Both hold the ``StatsState`` row lock for their whole transaction, so they never interleave; readers are
never blocked (they see the figures as of the last commit, and the page says when that was).

- ``do_refresh`` takes up to ``limit`` cases from the journal (``cases.CaseChange``), recomputes their facts,
  applies new − old to the rollups and deletes each journal row whose version it has now counted (a change
  that commits meanwhile leaves a newer version behind, which the next run takes).
- ``do_rebuild`` recomputes every fact and then every rollup row from the facts with set-based SQL — a
  different path from the deltas, which is what the equality tests compare them against.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from civicgrid.cases.models import CaseChange
from civicgrid.lib import clock
from civicgrid.stats.definitions import (
    CLOSED_COUNTERS,
    COUNTER_CODES,
    DEFINITIONS_VERSION,
    RECEIVED_COUNTERS,
    Dim,
)
from civicgrid.stats.facts import Fact, all_facts, facts_of
from civicgrid.stats.keys import Keys
from civicgrid.stats.models import CaseFact, DailyFigures, MonthlyDuration, MonthlyFigures, StatsState
from civicgrid.stats.rollup import Deltas
from civicgrid.workcalendar.calendar import current_calendar

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

_FACT_COLUMNS = [f.column for f in CaseFact._meta.concrete_fields]


def _lock_state() -> StatsState:
    StatsState.objects.get_or_create(pk=1)
    return StatsState.objects.select_for_update().get(pk=1)


def fact_from_row(row: CaseFact) -> Fact:
    return Fact(
        case_id=row.case_id,
        version=row.version,
        received_day=row.received_day,
        received_month=row.received_month,
        closed_day=row.closed_day,
        closed_month=row.closed_month,
        origin_id=row.origin_id,
        owner_id=row.owner_id,
        grid_cell_id=row.grid_cell_id,
        lead_unit_id=row.lead_unit_id,
        category_id=row.category_id,
        channel=row.channel,
        nature=row.nature,
        handling_minutes=row.handling_minutes,
        counts={code: getattr(row, code) for code in RECEIVED_COUNTERS},
    )


def do_refresh(*, actor: User | None, limit: int = 1000) -> int:
    """Fold up to ``limit`` changed cases into the figures; returns how many were folded in (a first run,
    or a run after the definitions changed, rebuilds everything instead)."""
    state = StatsState.objects.filter(pk=1).first()
    if state is None or state.definitions_version != DEFINITIONS_VERSION:
        return do_rebuild(actor=actor).cases
    with transaction.atomic():
        state = _lock_state()
        if state.definitions_version != DEFINITIONS_VERSION:
            return 0  # someone else is rebuilding (or just did): next round
        pending = list(CaseChange.objects.order_by("case_id").values_list("case_id", "version")[:limit])
        if not pending:
            return 0
        ids = [pk for pk, _ in pending]
        new = {f.case_id: f for f in facts_of(ids, current_calendar())}
        old = {row.case_id: fact_from_row(row) for row in CaseFact.objects.filter(case_id__in=ids)}
        deltas = Deltas(Keys())
        for fact in old.values():
            deltas.add(fact, -1)
        for fact in new.values():
            deltas.add(fact, +1)
        deltas.apply()
        CaseFact.objects.filter(case_id__in=ids).delete()
        CaseFact.objects.bulk_create([CaseFact(**f.row()) for f in new.values()])
        table = CaseChange._meta.db_table
        with connection.cursor() as c:
            # A case deleted meanwhile has no fact: its journal row goes whatever its version.
            c.executemany(
                f'DELETE FROM "{table}" WHERE "case_id" = %s AND "version" <= %s',
                [(pk, new[pk].version if pk in new else 2**31 - 1) for pk in ids],
            )
        state.refreshed_at = clock.now()
        state.save(update_fields=["refreshed_at"])
    return len(ids)


@dataclass(frozen=True)
class RebuildReport:
    cases: int
    daily_rows: int
    monthly_rows: int
    duration_rows: int
    facts_seconds: float
    rollup_seconds: float


def do_rebuild(*, actor: User | None) -> RebuildReport:
    """Recompute every fact and every rollup row (after the definitions or the area tree changed, or to
    check the incremental path). One transaction: readers see the old figures until it commits."""
    with transaction.atomic():
        state = _lock_state()
        started = perf_counter()
        for model in (CaseFact, DailyFigures, MonthlyFigures, MonthlyDuration):
            _empty(model._meta.db_table)
        calendar = current_calendar()
        cases = 0
        for chunk in all_facts(calendar):
            _write_facts(chunk)
            cases += len(chunk)
        # The journal rows of the cases counted as they are now are done with.
        change, fact = CaseChange._meta.db_table, CaseFact._meta.db_table
        with connection.cursor() as c:
            c.execute(
                f'DELETE FROM "{change}" WHERE "version" <= '
                f'(SELECT f."version" FROM "{fact}" f WHERE f."case_id" = "{change}"."case_id") '
                f'OR NOT EXISTS (SELECT 1 FROM "{fact}" f WHERE f."case_id" = "{change}"."case_id")'
            )
        facts_seconds = perf_counter() - started
        started = perf_counter()
        counts = _rollups_from_facts(Keys())
        now: datetime = clock.now()
        state.definitions_version = DEFINITIONS_VERSION
        state.built_at = state.refreshed_at = now
        state.save()
    return RebuildReport(cases, *counts, facts_seconds, perf_counter() - started)


def _empty(table: str) -> None:
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of rows written earlier in this transaction must run first:
            # TRUNCATE refuses a table with pending trigger events.
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
            c.execute(f'TRUNCATE "{table}"')
        else:
            c.execute(f'DELETE FROM "{table}"')


def _write_facts(chunk: list[Fact]) -> None:
    if connection.vendor != "postgresql":
        CaseFact.objects.bulk_create([CaseFact(**f.row()) for f in chunk], batch_size=500)
        return
    # COPY: several times faster than INSERT for millions of rows.
    names = [f.attname for f in CaseFact._meta.concrete_fields]
    buffer = io.StringIO()
    for fact in chunk:
        row = fact.row()
        buffer.write("\t".join("\\N" if row[n] is None else str(row[n]) for n in names))
        buffer.write("\n")
    columns = ", ".join(f'"{c}"' for c in _FACT_COLUMNS)
    sql = f'COPY "{CaseFact._meta.db_table}" ({columns}) FROM STDIN'
    with connection.cursor() as c, c.cursor.copy(sql) as copy:
        copy.write(buffer.getvalue())


def _rollups_from_facts(keys: Keys) -> tuple[int, int, int]:
    """The rollups by set-based SQL from the fact table (two small key tables from Python: the nodes of
    each (origin, owner) pair present and each category's ancestors)."""
    fact = CaseFact._meta.db_table
    with connection.cursor() as c:
        c.execute(
            "CREATE TEMPORARY TABLE stats_tmp_nodes (origin_id integer, owner_id integer, node_id integer)"
        )
        c.execute("CREATE TEMPORARY TABLE stats_tmp_cats (category_id integer, ancestor_id integer)")
        try:
            c.execute(f'SELECT DISTINCT "origin_id", "owner_id" FROM "{fact}"')
            pairs = c.fetchall()
            c.executemany(
                "INSERT INTO stats_tmp_nodes VALUES (%s, %s, %s)",
                [(o, w, n) for o, w in pairs for n in keys.nodes(o, w)],
            )
            c.executemany(
                "INSERT INTO stats_tmp_cats VALUES (%s, %s)",
                [(pk, a) for pk, ancestors in keys.categories.items() for a in ancestors],
            )
            c.execute(_daily_sql())
            # The monthly rollups month by month: a fact becomes a row per area node and breakdown key (about
            # 35 at city scale), so one statement over 10,000,000 facts would aggregate some 350,000,000 rows
            # (a hash table that spills tens of GB to disk); a month's statement reads its facts through the
            # day indexes and aggregates a thirty-sixth of that.
            for first, after in _months(c, fact):
                bounds = {"first": first, "after": after}
                c.execute(_monthly_sql(), bounds)
                c.execute(_duration_sql(), bounds)
            c.execute(f'SELECT COUNT(*) FROM "{DailyFigures._meta.db_table}"')
            daily = c.fetchone()[0]
            c.execute(f'SELECT COUNT(*) FROM "{MonthlyFigures._meta.db_table}"')
            monthly = c.fetchone()[0]
            c.execute(f'SELECT COUNT(*) FROM "{MonthlyDuration._meta.db_table}"')
            duration = c.fetchone()[0]
        finally:
            c.execute("DROP TABLE stats_tmp_nodes")
            c.execute("DROP TABLE stats_tmp_cats")
    return daily, monthly, duration


def _months(cursor: Any, fact: str) -> list[tuple[date, date]]:
    """(first day, first day of the next month) of every month some fact was received or closed in."""
    cursor.execute(f'SELECT MIN("received_day"), MAX("received_day"), MAX("closed_day") FROM "{fact}"')
    low, high, closed = cursor.fetchone()
    if low is None:
        return []
    low, high = _day(low), max(_day(high), _day(closed) if closed is not None else _day(high))
    out, month = [], low.replace(day=1)
    while month <= high:
        following = (month + timedelta(days=32)).replace(day=1)
        out.append((month, following))
        month = following
    return out


def _day(value: Any) -> date:
    """A date from a raw cursor (SQLite gives the ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _vectors(prefix: str = "f.") -> tuple[str, str]:
    """The SELECT lists of the received-axis part and the closed-axis part of a UNION ALL."""
    received = [f'{prefix}"{c}"' if c in RECEIVED_COUNTERS else "0" for c in COUNTER_CODES]
    closed_values = {
        "closed_in_period": "1",
        "closed_in_period_on_time": f'{prefix}"closed_on_time"',
        "timed": f'CASE WHEN {prefix}"handling_minutes" IS NULL THEN 0 ELSE 1 END',
        "handling_minutes": f'COALESCE({prefix}"handling_minutes", 0)',
    }
    assert set(closed_values) == set(CLOSED_COUNTERS)
    closed = [closed_values.get(c, "0") for c in COUNTER_CODES]
    return ", ".join(f'{v} AS "{c}"' for v, c in zip(received, COUNTER_CODES, strict=True)), ", ".join(
        f'{v} AS "{c}"' for v, c in zip(closed, COUNTER_CODES, strict=True)
    )


def _sums() -> str:
    return ", ".join(f'SUM(u."{c}")' for c in COUNTER_CODES)


def _columns() -> str:
    return ", ".join(f'"{c}"' for c in COUNTER_CODES)


_JOIN_NODES = 'JOIN stats_tmp_nodes n ON n.origin_id = f."origin_id" AND n.owner_id = f."owner_id"'


def _daily_sql() -> str:
    fact, received, closed = CaseFact._meta.db_table, *_vectors()
    return (
        f'INSERT INTO "{DailyFigures._meta.db_table}" ("node_id", "day", {_columns()}) '
        f"SELECT u.node_id, u.day, {_sums()} FROM ("
        f'SELECT n.node_id, f."received_day" AS day, {received} FROM "{fact}" f {_JOIN_NODES} '
        f'UNION ALL SELECT n.node_id, f."closed_day" AS day, {closed} FROM "{fact}" f {_JOIN_NODES} '
        f'WHERE f."closed_day" IS NOT NULL'
        f") u GROUP BY u.node_id, u.day"
    )


def _dim_keys() -> list[tuple[str, str, str]]:
    """(dimension, key expression, extra join / condition) for the monthly rollup."""
    return [
        (Dim.CHANNEL, 'f."channel"', ""),
        (Dim.NATURE, 'f."nature"', ""),
        (
            Dim.CATEGORY,
            "CAST(a.ancestor_id AS TEXT)",
            'JOIN stats_tmp_cats a ON a.category_id = f."category_id"',
        ),
        (Dim.UNIT, 'CAST(f."lead_unit_id" AS TEXT)', 'WHERE f."lead_unit_id" IS NOT NULL'),
        (Dim.GRID, 'CAST(f."grid_cell_id" AS TEXT)', 'WHERE f."grid_cell_id" IS NOT NULL'),
    ]


# The facts of one month (parameters ``first`` and ``after``), received or closed, through the day indexes.
_RECEIVED_IN = 'f."received_day" >= %(first)s AND f."received_day" < %(after)s'
_CLOSED_IN = 'f."closed_day" >= %(first)s AND f."closed_day" < %(after)s'


def _monthly_sql() -> str:
    fact, received, closed = CaseFact._meta.db_table, *_vectors()
    parts = []
    for dim, key, extra in _dim_keys():
        join = extra if extra.startswith("JOIN") else ""
        where = f"{extra} AND" if extra.startswith("WHERE") else "WHERE"
        parts.append(
            f"SELECT n.node_id, '{dim}' AS dim, f.\"received_month\" AS month, {key} AS key, {received} "
            f'FROM "{fact}" f {_JOIN_NODES} {join} {where} {_RECEIVED_IN}'
        )
        parts.append(
            f"SELECT n.node_id, '{dim}' AS dim, f.\"closed_month\" AS month, {key} AS key, {closed} "
            f'FROM "{fact}" f {_JOIN_NODES} {join} {where} {_CLOSED_IN}'
        )
    union = " UNION ALL ".join(parts)
    return (
        f'INSERT INTO "{MonthlyFigures._meta.db_table}" ("node_id", "dim", "month", "key", {_columns()}) '
        f"SELECT u.node_id, u.dim, u.month, u.key, {_sums()} FROM ({union}) u "
        "GROUP BY u.node_id, u.dim, u.month, u.key"
    )


def _duration_sql() -> str:
    fact = CaseFact._meta.db_table
    return (
        f'INSERT INTO "{MonthlyDuration._meta.db_table}" ("node_id", "month", "hours", "cases") '
        f'SELECT n.node_id, f."closed_month", f."handling_minutes" / 60, COUNT(*) FROM "{fact}" f {_JOIN_NODES} '
        f'WHERE f."handling_minutes" IS NOT NULL AND {_CLOSED_IN} '
        f'GROUP BY n.node_id, f."closed_month", f."handling_minutes" / 60'
    )
