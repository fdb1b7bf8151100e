"""Every write to notifications goes through these actions (keyword-only ``actor``; None = system work).

Delivery results are written by ``delivery.deliver_pending``, the worker's job, not here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.notifications.models import Channel, Notification

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

_SUBJECT_MAX = Notification._meta.get_field("subject").max_length or 200


def new_notification(
    *,
    channel: Channel | str,
    kind: str,
    subject: str,
    body: str,
    recipient: User | None = None,
    address: str = "",
    ref: str = "",
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
) -> Notification:
    """One message checked and built, not yet saved: for an action that writes it together with its own
    rows (the intake, in one statement). Everything else calls do_enqueue_notification."""
    channel = Channel(channel)
    address = address.strip()
    if (recipient is None) == (not address):
        raise ValidationError(_("A notification needs either a recipient or an address, not both."))
    if channel == Channel.IN_APP and recipient is None:
        raise ValidationError(_("An in-app message needs a staff recipient."))
    if not kind or len(kind) > 64:
        raise ValidationError(_("The notification kind must be 1 to 64 characters."))
    if dedupe_key is not None and not dedupe_key:
        raise ValidationError(_("The deduplication key must not be empty."))
    if len(subject) > _SUBJECT_MAX:
        # Subjects are often built from a case title; a long title must not fail the case action.
        subject = subject[: _SUBJECT_MAX - 1] + "…"
    return Notification(
        channel=channel,
        kind=kind,
        recipient=recipient,
        address=address,
        subject=subject,
        body=body,
        ref=ref,
        data=data or {},
        dedupe_key=dedupe_key,
        available_at=available_at or timezone.now(),
    )


def do_enqueue_notification(
    *,
    channel: Channel | str,
    kind: str,
    subject: str,
    body: str,
    recipient: User | None = None,
    address: str = "",
    ref: str = "",
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
    actor: User | None,
) -> Notification | None:
    """Queue one message; the worker sends it after the surrounding transaction commits.

    Call it inside the transaction of the change it announces: if that rolls back, so does the message.
    Give exactly one of ``recipient`` (a staff member; their phone or e-mail is read at sending time) and
    ``address`` (a resident's phone or e-mail). Returns None, and leaves the caller's transaction usable,
    when a notification with the same ``dedupe_key`` already exists. Sends nothing itself.
    """
    row = new_notification(
        channel=channel,
        kind=kind,
        subject=subject,
        body=body,
        recipient=recipient,
        address=address,
        ref=ref,
        data=data,
        dedupe_key=dedupe_key,
        available_at=available_at,
    )
    if dedupe_key is None:
        row.save(force_insert=True)  # one INSERT: atomic by itself, no savepoint needed
        return row
    if Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        # A savepoint of its own: when a concurrent transaction inserted the same dedupe_key first, only
        # this insert is rolled back and the caller's transaction carries on.
        with transaction.atomic():
            row.save(force_insert=True)
            return row
    except IntegrityError:
        if Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise


@transaction.atomic
def do_mark_read(notification: Notification, *, actor: User | None) -> Notification:
    """Mark a message read in its recipient's inbox. Only the recipient may; marking twice keeps the first
    time."""
    if actor is None or notification.recipient_id is None or notification.recipient_id != actor.pk:
        raise PermissionDenied
    # Conditional update instead of read-modify-write: two tabs marking at once both succeed, once.
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification
