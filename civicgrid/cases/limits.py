"""Which time limits apply to a case: the most specific active TimeLimit rows per stage.

Specificity, highest first: a deeper category (the case's own category beats its parent, which beats "any"),
then a matching handling class, then nature, then urgency. All rows of the winning combination are returned
(several rows = staged limits, ordered by ``seq``).

The table is small and read on every intake, so it is cached per process. The cache is dropped at once by
the actions that edit limits (``invalidate``) and at most CACHE_RECHECK_SECONDS later in other processes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from civicgrid.cases.models import Stage, TimeLimit


@dataclass(frozen=True)
class LimitRow:
    stage: str
    seq: int
    label: str
    category_code: str | None
    nature: str
    handling_class: str
    urgency: str
    value: Decimal
    unit: str
    warn_fraction: Decimal
    serious_factor: Decimal
    handle_starts: str

    @classmethod
    def of(cls, row: TimeLimit, category_code: str | None) -> LimitRow:
        return cls(
            stage=row.stage,
            seq=row.seq,
            label=row.label,
            category_code=category_code,
            nature=row.nature,
            handling_class=row.handling_class,
            urgency=row.urgency,
            value=row.value,
            unit=row.unit,
            warn_fraction=row.warn_fraction,
            serious_factor=row.serious_factor,
            handle_starts=row.handle_starts,
        )


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded_at = 0.0
        self.by_stage: dict[str, list[LimitRow]] = {}


_cache = _Cache()


def invalidate() -> None:
    with _cache.lock:
        _cache.loaded_at = 0.0


def _rows() -> dict[str, list[LimitRow]]:
    with _cache.lock:
        if _cache.loaded_at and time.monotonic() - _cache.loaded_at < settings.CACHE_RECHECK_SECONDS:
            return _cache.by_stage
        by_stage: dict[str, list[LimitRow]] = {}
        for row in TimeLimit.objects.filter(is_active=True).select_related("category"):
            code = row.category.code if row.category else None
            by_stage.setdefault(row.stage, []).append(LimitRow.of(row, code))
        _cache.by_stage = by_stage
        _cache.loaded_at = time.monotonic()
        return by_stage


def limits_for(
    stage: Stage | str,
    *,
    category_codes: list[str],
    nature: str,
    handling_class: str,
    urgency: str,
) -> list[LimitRow]:
    """The winning rows for ``stage`` (empty: the stage is not timed). ``category_codes`` runs from the
    root to the case's own category."""
    depth = {code: i + 1 for i, code in enumerate(category_codes)}
    best: tuple[int, int, int, int] | None = None
    winners: list[LimitRow] = []
    for row in _rows().get(str(stage), []):
        if row.category_code is not None and row.category_code not in depth:
            continue
        if row.handling_class and row.handling_class != handling_class:
            continue
        if row.nature and row.nature != nature:
            continue
        if row.urgency and row.urgency != urgency:
            continue
        key = (
            depth.get(row.category_code, 0) if row.category_code else 0,
            1 if row.handling_class else 0,
            1 if row.nature else 0,
            1 if row.urgency else 0,
        )
        if best is None or key > best:
            best, winners = key, [row]
        elif key == best:
            winners.append(row)
    return sorted(winners, key=lambda r: r.seq)
