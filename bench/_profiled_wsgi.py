"""CivicGrid's WSGI application under cProfile, for bench/intake.py's profile of one sync worker.

``gunicorn _profiled_wsgi:application --workers 1`` (bench/ on PYTHONPATH). Every request runs under one
cProfile.Profile, and its SQL statements are counted and timed (wall, driver included) by shape. A GET to
``/__bench_profile_dump`` writes the stats to $BENCH_PROFILE_OUT (pstats) and $BENCH_PROFILE_OUT.json (the
request count, the time in the application, and per statement shape the count, the time and one example
of a SELECT with its parameters inlined, for EXPLAIN) and is answered by this wrapper alone.
"""

from __future__ import annotations

import cProfile
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.db import connection

from civicgrid.wsgi import application as _inner

_profile = cProfile.Profile()
_state = {"requests": 0, "seconds": 0.0, "queries": 0, "db_seconds": 0.0}
_sql: dict[str, list[Any]] = {}  # shape → [count, seconds, the slowest SELECT of the shape or "", its time]

_VERB = re.compile(
    r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)", re.I
)
_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"([a-z_0-9]+)"', re.I)
_WHERE = re.compile(r'WHERE\s+(?:\(?\s*)"[a-z_0-9]+"\."([a-z_0-9]+)"', re.I)
_LOCK = re.compile(r"FOR (NO KEY )?UPDATE", re.I)


def _shape(sql: str) -> str:
    union = sql.lstrip().startswith("(") and " UNION " in sql
    sql = sql.lstrip().lstrip("(")
    verb = _VERB.match(sql)
    if verb is None:
        return sql.strip().split()[0].upper() if sql.strip() else "?"
    word = verb.group(1).upper()
    if "SAVEPOINT" in word:
        return word
    table = _TABLE.search(sql)
    where = _WHERE.search(sql)
    shape = f"{word} {table.group(1) if table else '?'}"
    if where:
        shape += f" WHERE {where.group(1)}"
    if _LOCK.search(sql):
        shape += " FOR UPDATE"
    return shape + (" UNION …" if union else "")


def _timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        spent = time.perf_counter() - started
        shape = _shape(sql)
        entry = _sql.setdefault(shape, [0, 0.0, "", 0.0])
        if spent > entry[3] and shape.startswith("SELECT") and "FOR UPDATE" not in shape and not many:
            entry[2], entry[3] = cast(Any, connection.ops).compose_sql(sql, params), spent
        entry[0] += 1
        entry[1] += spent
        _state["queries"] += 1
        _state["db_seconds"] += spent


def _dump() -> None:
    out = os.environ["BENCH_PROFILE_OUT"]
    _profile.dump_stats(out)
    rows = sorted(([shape, n, s, example] for shape, (n, s, example, _) in _sql.items()), key=lambda r: -r[2])
    with open(out + ".json", "w", encoding="utf-8") as f:
        json.dump({**_state, "sql": rows}, f)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/__bench_profile_dump":
        _dump()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    if environ.get("REQUEST_METHOD") != "POST":  # the bench's readiness probes
        return _inner(environ, start_response)
    started = time.perf_counter()
    _profile.enable()
    try:
        with connection.execute_wrapper(_timed):
            body = list(_inner(environ, start_response))
    finally:
        _profile.disable()
        _state["requests"] += 1
        _state["seconds"] += time.perf_counter() - started
    return body
