"""Recording that a case changed, for the statistics (models.changes.CaseChange)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from civicgrid.cases.models import Case, CaseChange

_TABLE = CaseChange._meta.db_table

# One statement on both databases (SQLite ≥ 3.24 and PostgreSQL): a case already waiting keeps one row,
# carrying the newest version. It runs inside the change's transaction, after the case row was locked, so
# two changes of one case never race on it.
_UPSERT = (
    f'INSERT INTO "{_TABLE}" ("case_id", "version") VALUES (%s, %s) '
    'ON CONFLICT ("case_id") DO UPDATE SET "version" = EXCLUDED."version"'
)


def mark_changed(case: Case) -> None:
    """Call inside the transaction that changed ``case`` (after its version was bumped)."""
    with connection.cursor() as c:
        c.execute(_UPSERT, [case.pk, case.version])


def new_case_rows(cases: Iterable[Case]) -> list[CaseChange]:
    """The journal rows of cases being inserted (for bulk or single-statement writers)."""
    return [CaseChange(case_id=case.pk, version=case.version) for case in cases]
