"""Deliver queued notifications: claim a batch under a lease, send each, record the result.

Several workers may run at once. A claim sets status=sending with ``claimed_by`` and ``claimed_until``
(the lease). On PostgreSQL the claim query takes ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent
workers take disjoint batches without waiting for each other. SQLite has no row locks but serializes
writers (the settings open every transaction as IMMEDIATE), and each row is claimed by a conditional
UPDATE on the state it was read in; a row whose update count is not 1 was taken by someone else.

Sending happens outside any transaction, so a slow gateway holds no lock. Each result is written only if
the row is still this worker's claim (same ``claimed_by`` and ``claimed_until``): a worker that stalled
past its lease, and whose row another worker took over, cannot overwrite that worker's result. A row is
sent twice only when its lease expired mid-send; a worker stops sending before its lease runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from civicgrid.notifications.backends import NotificationBackend, UndeliverableError, get_backend
from civicgrid.notifications.models import OPEN_STATUSES, Notification, Status

logger = logging.getLogger("civicgrid.notifications")

LEASE = timedelta(seconds=60)
# Stop sending from a batch this long before its lease ends, leaving time for one more send to finish.
LEASE_MARGIN = timedelta(seconds=15)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
ERROR_LIMIT = 2000


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s × 2^attempts, at most an hour (1 min, 2 min, … 1 h)."""
    return min(BACKOFF_BASE * (1 << attempts), BACKOFF_CAP)


def _due(now: datetime) -> Q:
    due = Q(status__in=(Status.PENDING, Status.FAILED), available_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )
    return Q(_open_rows()) & due


def _open_rows() -> RawSQL:
    """The condition of the partial index notification_open_due_idx, repeated as a term of the claim query.

    Literal SQL on purpose: SQLite uses a partial index only when the query contains the index's WHERE
    term, and it does not match Django's bound parameters (``status__in``) against the index's literals,
    so without this every poll would scan every notification ever sent. PostgreSQL uses the index either
    way. The values are our own status codes, not input.
    """
    values = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)
    column = f"{connection.ops.quote_name(Notification._meta.db_table)}.{connection.ops.quote_name('status')}"
    return RawSQL(f"{column} IN ({values})", [], output_field=BooleanField())


def claim_due(*, worker_id: str, batch: int, now: datetime) -> list[Notification]:
    """Claim up to ``batch`` due rows for ``worker_id`` until ``now`` + LEASE, oldest first, and return them
    (with their recipients) in that order. The claim's transaction is short and commits before the
    sending starts (unless the caller holds one open), so the lease is visible to other workers.

    The claim counts as an attempt: a message that kills the worker mid-send (and so never reports a
    result) still runs out of attempts instead of being retried for ever.
    """
    claim_values = {
        "status": Status.SENDING,
        "claimed_by": worker_id,
        "claimed_until": now + LEASE,
        "attempts": F("attempts") + 1,
    }
    due = Notification.objects.filter(_due(now)).order_by("available_at", "pk")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            pks = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch])
            Notification.objects.filter(pk__in=pks).update(**claim_values)
        else:
            pks = []
            for pk, status, claimed_until in due.values_list("pk", "status", "claimed_until")[:batch]:
                # Only if nobody changed the row since we read it.
                unchanged = Q(pk=pk, status=status) & (
                    Q(claimed_until__isnull=True) if claimed_until is None else Q(claimed_until=claimed_until)
                )
                if Notification.objects.filter(unchanged).update(**claim_values) == 1:
                    pks.append(pk)
    rows = Notification.objects.select_related("recipient").in_bulk(pks)
    return [rows[pk] for pk in pks if pk in rows]


def deliver_pending(*, worker_id: str, batch: int = 100, now: datetime | None = None) -> int:
    """Claim and send one batch of due notifications; return how many rows were processed (sent, failed
    or given up). ``now`` fixes the clock (tests); without it the real clock is read as sending goes."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    rows = claim_due(worker_id=worker_id, batch=batch, now=clock())
    backends: dict[str, NotificationBackend] = {}
    for index, row in enumerate(rows):
        assert row.claimed_until is not None  # set by claim_due
        if clock() > row.claimed_until - LEASE_MARGIN:
            # The batch is taking too long: hand the rest back rather than let another worker take a row
            # over while it is being sent.
            _release(rows[index:], worker_id)
            logger.warning(
                "worker %s: lease nearly over, released %d unsent notification(s)",
                worker_id,
                len(rows) - index,
            )
            return index
        _send_one(row, worker_id, backends, clock)
    return len(rows)


def _send_one(
    row: Notification,
    worker_id: str,
    backends: dict[str, NotificationBackend],
    clock: Callable[[], datetime],
) -> None:
    attempts = row.attempts  # this try included (claim_due counted it)
    if attempts > MAX_ATTEMPTS:
        # Only a row whose previous tries never reported back (the worker died mid-send) gets here.
        _finish(row, worker_id, status=Status.DEAD, last_error=row.last_error or "no result reported")
        return
    try:
        backend = backends.get(row.channel)
        if backend is None:
            backend = backends[row.channel] = get_backend(row.channel)
        backend.send(row)
    except UndeliverableError as exc:
        logger.warning("notification %s (%s) given up: %s", row.pk, row.kind, exc)
        _finish(row, worker_id, status=Status.DEAD, last_error=_describe(exc))
    except Exception as exc:
        # Any failure of a backend (network, gateway refusal, a bug) is retried, then given up.
        dead = attempts >= MAX_ATTEMPTS
        logger.warning(
            "notification %s (%s) attempt %d failed%s: %s",
            row.pk,
            row.kind,
            attempts,
            ", given up" if dead else "",
            _describe(exc),
        )
        _finish(
            row,
            worker_id,
            status=Status.DEAD if dead else Status.FAILED,
            available_at=clock() + backoff(attempts),
            last_error=_describe(exc),
        )
    else:
        _finish(row, worker_id, status=Status.SENT, sent_at=clock(), last_error="")


def _finish(row: Notification, worker_id: str, **values: object) -> bool:
    """Write a result only while the row is still this claim (``claimed_until`` tells apart two claims by
    the same worker id); False, and nothing written, if another worker took it over."""
    updated = _still_mine(row, worker_id).update(claimed_until=None, **values)
    if updated != 1:
        logger.warning(
            "worker %s: notification %s was taken over after its lease expired; result dropped",
            worker_id,
            row.pk,
        )
    return updated == 1


def _release(rows: list[Notification], worker_id: str) -> None:
    for row in rows:
        # Back to what it was before the claim, which did not try to send: the attempt is returned.
        status = Status.FAILED if row.attempts > 1 else Status.PENDING
        _still_mine(row, worker_id).update(status=status, claimed_until=None, attempts=F("attempts") - 1)


def _still_mine(row: Notification, worker_id: str) -> QuerySet[Notification]:
    return Notification.objects.filter(
        pk=row.pk, status=Status.SENDING, claimed_by=worker_id, claimed_until=row.claimed_until
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
