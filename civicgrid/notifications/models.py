"""The notification outbox, which is also the in-app inbox.

A row is written by ``actions.do_enqueue_notification`` inside the caller's transaction, so it exists if and
only if the change it announces committed (a transactional outbox). The worker (``run_worker``) delivers it
later through ``delivery.deliver_pending``. There is no message broker: this table is the queue.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.fields import EncryptedTextField
from civicgrid.lib.masking import mask_phone


class Channel(models.TextChoices):
    IN_APP = "in_app", _("in-app message")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("email")


class Status(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed, will retry")
    DEAD = "dead", _("given up")


# The statuses the worker may still have to act on; sent and dead rows are history.
OPEN_STATUSES: tuple[Status, ...] = (Status.PENDING, Status.FAILED, Status.SENDING)


class Notification(models.Model):
    """One message to one staff member (``recipient``) or to one resident's phone or e-mail (``address``).

    For a staff member the phone or e-mail is looked up when the message is sent, so a corrected number
    applies to messages still waiting and the outbox keeps no copy of it.
    """

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    kind = models.CharField(  # indexed: see Meta
        _("kind"), max_length=64, help_text=_("A stable code such as case.dispatched")
    )
    # Users are deactivated, not deleted; if a superuser does delete one, their inbox goes with them.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_index=False,  # notification_inbox_idx starts with it
    )
    address = EncryptedTextField(
        _("address"), blank=True, help_text=_("A resident's phone or e-mail; empty when sent to staff")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    # "case:123": other apps point at their records without a foreign key from this table to theirs.
    ref = models.CharField(_("reference"), max_length=64, blank=True)  # indexed: see Meta
    data = models.JSONField(_("data"), default=dict, blank=True)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    available_at = models.DateTimeField(
        _("next attempt"), default=timezone.now, help_text=_("Not sent before this time")
    )
    claimed_by = models.CharField(_("worker"), max_length=128, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Lets a job that may fire twice (the deadline sweeper) enqueue a warning once: the second insert
    # fails on the unique constraint (Meta) and is dropped. NULL (the default) never collides.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        # Every index costs each message a write (the intake writes one per case), so none repeats another
        # and there are no LIKE indexes: these columns are only compared whole.
        indexes = [
            models.Index(fields=["kind"], name="notification_kind_idx"),
            models.Index(fields=["ref"], name="notification_ref_idx"),
            # Serves the worker's claim query (delivery.claim_due): open rows ordered by available_at,
            # LIMIT batch. Partial, so the index holds only the few rows still to deliver instead of
            # every message ever sent; available_at alone (not status first) so one ordered index
            # scan answers "the oldest due rows" across all three open statuses.
            models.Index(
                fields=["available_at"],
                name="notification_open_due_idx",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            # The inbox: a user's messages, newest first.
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
        ]
        constraints = [
            # Partial: most messages have no key and cost this index nothing.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                name="notification_dedupe_uniq",
                condition=models.Q(dedupe_key__isnull=False),
            ),
            # Exactly one destination: a staff member (resolved at delivery) or a stored address.
            models.CheckConstraint(
                condition=(
                    models.Q(recipient__isnull=False, address="")
                    | (models.Q(recipient__isnull=True) & ~models.Q(address=""))
                ),
                name="notification_one_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.destination_label} ({self.get_status_display()})"

    @property
    def destination_label(self) -> str:
        """Who the message is for, safe to show: the staff member, or the masked address."""
        if self.recipient_id is not None and self.recipient is not None:
            return str(self.recipient)
        return mask_address(self.address)


def mask_address(address: str) -> str:
    """A phone as 138****5678, an e-mail as z***@example.org."""
    local, at, domain = address.partition("@")
    if at:
        return f"{local[:1]}***@{domain}"
    return mask_phone(address)
