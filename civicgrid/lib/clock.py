"""The one source of "now" for actions, so the demo loader can replay history and tests can freeze time.

``now()`` is ``timezone.now()`` unless a ``frozen(at)`` block is active in this context (a ContextVar, so
threads and async tasks do not see each other's frozen time).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("civicgrid_frozen_now", default=None)


def now() -> datetime:
    at = _frozen.get()
    return at if at is not None else timezone.now()


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Make ``now()`` return ``at`` inside the block (``at`` must be timezone-aware)."""
    if timezone.is_naive(at):
        raise ValueError("frozen() needs an aware datetime")
    token = _frozen.set(at)
    try:
        yield at
    finally:
        _frozen.reset(token)


def set_frozen(at: datetime | None) -> None:
    """Move a frozen clock forward inside a ``frozen`` block (the demo walks a case through its days)."""
    _frozen.set(at)
