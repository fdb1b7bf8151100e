"""Hand-assembled SQL for the few statements on the busiest paths (case intake, token authentication).

Building a query through the ORM costs about half a millisecond of CPU before the database sees it, more
than PostgreSQL then spends running it; the intake would spend most of its time there. These helpers
build the statement text once per model (from the model's own field definitions, so column names,
encryption and JSON encoding are exactly the ORM's) and only prepare the values per call:

- ``insert_rows``: several new rows in ONE statement on PostgreSQL (data-modifying CTEs: atomic on its
  own, one round trip, no BEGIN/COMMIT); elsewhere ordinary saves. ``reserve_pk`` draws a row's key first,
  so rows that point at it can go in the same statement.
- ``from_row``: a model instance from columns read by hand-written SQL, as the ORM itself builds them.

No signals are sent (CivicGrid has no receivers on these models; a test keeps it that way).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, TypeVar

from django.db import connections, models
from django.db.backends.utils import CursorWrapper
from django.db.models.fields import Field

M = TypeVar("M", bound=models.Model)


_MISSING = object()
# Fields whose value goes to the database as it is when it already has one of these exact types (a
# datetime only when aware, and not for auto_now fields); the generic prep path (get_db_prep_save) does
# the same in a dozen calls per column. Exact classes only: a subclass (an encrypted text, say) may prepare
# its values differently.
_PLAIN_TYPES: dict[type[Field[Any, Any]], tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.BooleanField: (bool,),
    models.IntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.BigIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.FloatField: (float, int),
    models.ForeignKey: (int,),
}


@cache
def _plain_types(field: Field[Any, Any]) -> tuple[type, ...] | None:
    if type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        # psycopg takes an aware datetime as it is; a naive one goes the ORM's way (and its warning).
        return (datetime,)
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return (
            (int,) if type(target) in (models.AutoField, models.BigAutoField, models.IntegerField) else None
        )
    return _PLAIN_TYPES.get(type(field))


@contextmanager
def cursor(using: str = "default") -> Iterator[CursorWrapper]:
    """A cursor for these hand-written statements. On PostgreSQL it binds values server-side, so psycopg
    prepares a statement once it ran ``prepare_threshold`` times on the connection (settings: DATABASES
    OPTIONS) and PostgreSQL parses and plans it once per connection, not once per request. Otherwise it
    is Django's own cursor: same error translation, same query logging (assertNumQueries counts it)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as plain:
            yield plain
        return
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    wrapped = connection._prepare_cursor(raw)  # type: ignore[attr-defined]
    with wrapped:
        yield wrapped


@cache
def insert_fields(model: type[models.Model]) -> tuple[Field[Any, Any], ...]:
    """The columns an INSERT writes: every concrete field except an auto-incremented primary key."""
    return tuple(
        f
        for f in model._meta.concrete_fields
        if not (
            f.primary_key and isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField)
        )
    )


@cache
def read_fields(
    model: type[models.Model], defer: frozenset[str] = frozenset()
) -> tuple[Field[Any, Any], ...]:
    """The concrete fields ``select_columns``/``from_row`` read, less the ``defer``red ones (read on access,
    like the ORM's ``defer``: e.g. encrypted columns nobody on the path looks at)."""
    return tuple(f for f in model._meta.concrete_fields if f.name not in defer)


@cache
def select_columns(model: type[models.Model], alias: str = "", defer: frozenset[str] = frozenset()) -> str:
    """``"t"."a", "t"."b", …`` for ``read_fields(model, defer)``, in order (what ``from_row`` expects)."""
    prefix = f'"{alias}".' if alias else ""
    return ", ".join(f'{prefix}"{f.column}"' for f in read_fields(model, defer))


def from_row(
    model: type[M], values: Sequence[Any], *, defer: frozenset[str] = frozenset(), using: str = "default"
) -> M:
    """An instance from the raw values of ``select_columns(model, …, defer)``, converted as the ORM
    converts them; deferred fields are loaded when first read, as with ``QuerySet.defer``."""
    connection = connections[using]
    converted = []
    for (field, converters), value in zip(_converters(model, defer, using), values, strict=True):
        for converter in converters:
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(using, [f.attname for f in read_fields(model, defer)], converted)


@cache
def _converters(
    model: type[models.Model], defer: frozenset[str], using: str
) -> list[tuple[Field[Any, Any], list[Any]]]:
    """Per field read, the converters the ORM's compiler would apply to its column (backend first)."""
    connection = connections[using]
    result = []
    for field in read_fields(model, defer):
        col = field.get_col(model._meta.db_table)
        result.append((field, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return result


def insert_rows(rows: Sequence[models.Model], *, using: str = "default") -> None:
    """INSERT new rows, in order, setting the primary keys they lack. Rows pointing at each other must
    carry the keys already (see ``reserve_pk``). On PostgreSQL one statement (data-modifying CTEs): it
    commits or fails as a whole even outside a transaction, and foreign keys are checked at its end.
    Elsewhere ordinary saves: call it inside ``transaction.atomic()`` there."""
    connection = connections[using]
    if connection.vendor != "postgresql" or len(rows) == 1:
        for row in rows:
            row.save(force_insert=True, using=using)
        return
    sql, row_fields = _rows_sql(tuple((type(row), row.pk is not None) for row in rows))
    params: list[Any] = []
    for row, fields in zip(rows, row_fields, strict=True):
        values = row.__dict__
        for field in fields:
            plain = _plain_types(field)
            if plain is not None:
                value = values.get(field.attname, _MISSING)
                if value is None or (type(value) in plain and getattr(value, "tzinfo", True) is not None):
                    params.append(value)
                    continue
            params.append(field.get_db_prep_save(field.pre_save(row, True), connection))
    with cursor(using) as c:
        c.execute(sql, params)
        ids = c.fetchone()
    if ids is None:  # pragma: no cover — the statement returns one row or raises
        raise RuntimeError("insert_rows returned no row")
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = using


def reserve_pk(model: type[models.Model], *, using: str = "default") -> int | None:
    """A primary key for a row not yet written, drawn from its sequence on PostgreSQL (None elsewhere: the
    INSERT will assign it). Lets related rows be written in one statement."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with cursor(using) as c:
        c.execute("SELECT nextval(%s)", [pk_sequence(model, using=using)])
        row = c.fetchone()
    return int(row[0]) if row else None


@lru_cache(maxsize=32)
def pk_sequence(model: type[models.Model], *, using: str = "default") -> str:
    """The name of the PostgreSQL sequence behind the model's auto-incremented primary key."""
    with connections[using].cursor() as c:
        c.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
        row = c.fetchone()
    if not row or not row[0]:
        raise LookupError(f"{model._meta.label} has no sequence behind its primary key")
    return str(row[0])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=64)
def _rows_sql(
    shape: tuple[tuple[type[models.Model], bool], ...],
) -> tuple[str, list[tuple[Field[Any, Any], ...]]]:
    """The statement text for insert_rows and, per row, the fields whose values it takes (in order).
    ``shape``: each row's model and whether it comes with its primary key."""
    parts: list[str] = []
    row_fields: list[tuple[Field[Any, Any], ...]] = []
    for index, (model, has_pk) in enumerate(shape):
        fields = model._meta.concrete_fields if has_pk else insert_fields(model)
        pk = _q(model._meta.pk.column)
        parts.append(
            f"r{index} AS (INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {pk})"
        )
        row_fields.append(tuple(fields))
    returned = ", ".join(f"(SELECT * FROM r{i})" for i in range(len(shape)))
    return "WITH " + ",\n".join(parts) + f"\nSELECT {returned}", row_fields


__all__ = [
    "cursor",
    "from_row",
    "insert_fields",
    "insert_rows",
    "pk_sequence",
    "read_fields",
    "reserve_pk",
    "select_columns",
]
