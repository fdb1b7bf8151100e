"""The resident portal's own records: its policy, the secret tracking links, the flood log, residents'
support for an open case ("I have the same problem") and their requests to reopen a closed one.

Cases themselves are written only by the case actions (civicgrid.cases.actions); these rows point at them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PortalPolicy(models.Model):
    """The portal's limits, edited in the admin. One row (pk 1, made by migration 0002); ``current_policy``
    in queries.py reads it and recreates it with the defaults if someone removed it."""

    reopen_window_days = models.PositiveSmallIntegerField(
        _("reopen window (days)"),
        default=15,
        help_text=_(
            "How many days after closure a resident may ask to reopen a case from the tracking page."
        ),
    )
    submissions_per_ip_per_hour = models.PositiveSmallIntegerField(
        _("submissions per address per hour"),
        default=10,
        help_text=_("Requests (and supports) accepted from one network address in an hour."),
    )
    submissions_per_phone_per_day = models.PositiveSmallIntegerField(
        _("submissions per phone per day"),
        default=5,
        help_text=_("Requests accepted with one phone number in a day."),
    )
    service_area = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service area"),
        help_text=_(
            "The streets and communities residents may choose from (and where the map opens); "
            "blank for every active street and community."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("portal policy")
        verbose_name_plural = _("portal policy")

    def __str__(self) -> str:
        return str(_("Resident portal policy"))


class TrackingLink(models.Model):
    """The secret behind a resident's tracking link. Only its SHA-256 is stored: the link is shown once, on
    the receipt, and whoever holds it may follow, rate and ask to reopen the case (no account needed)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="tracking_link", verbose_name=_("case")
    )
    secret_digest = models.CharField(_("secret digest"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")
        constraints = [models.UniqueConstraint(fields=["secret_digest"], name="portal_tracking_digest_uniq")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.secret_digest[:8]}…"


class SubmissionKind(models.TextChoices):
    REPORT = "report", _("request")
    SUPPORT = "support", _("support")
    HONEYPOT = "honeypot", _("robot (honeypot)")


class SubmissionLog(models.Model):
    """One row per accepted attempt to write through the public forms, counted by the rate limits. Network
    addresses and phones are personal data: only their keyed digests are kept."""

    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=16, choices=SubmissionKind.choices)
    ip_digest = models.CharField(_("address digest"), max_length=64)
    phone_digest = models.CharField(_("phone digest"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("submission log entry")
        verbose_name_plural = _("submission log")
        indexes = [
            # The two rate-limit counts: one address in the last hour, one phone in the last day.
            models.Index(fields=["ip_digest", "at"], name="portal_sublog_ip_at_idx"),
            models.Index(
                fields=["phone_digest", "at"],
                name="portal_sublog_phone_at_idx",
                condition=~models.Q(phone_digest=""),
            ),
            # The worker's prune of entries older than any window (portal.prune).
            models.Index(fields=["at"], name="portal_sublog_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class Support(models.Model):
    """A resident says "I have the same problem" about an open case instead of reporting it again."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="supports", verbose_name=_("case")
    )
    at = models.DateTimeField(_("at"))
    ip_digest = models.CharField(_("address digest"), max_length=64)
    phone_digest = models.CharField(_("phone digest"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        ordering = ["case", "at"]
        indexes = [models.Index(fields=["case", "ip_digest"], name="portal_support_case_ip_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} @ {self.at:%Y-%m-%d}"


class ReopenStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("reopen request", "pending")
    ACCEPTED = "accepted", pgettext_lazy("reopen request", "accepted")
    DECLINED = "declined", pgettext_lazy("reopen request", "declined")


class ReopenRequest(models.Model):
    """A resident asks, from the tracking page, to have a closed case handled again (重办). The oversight
    office decides on the staff case page (actions.do_decide_reopen_request); accepting reopens the case."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="reopen_requests", verbose_name=_("case")
    )
    at = models.DateTimeField(_("asked at"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=ReopenStatus.choices, default=ReopenStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(
        _("note to the resident"), blank=True, help_text=_("Shown on the resident's tracking page.")
    )

    class Meta:
        verbose_name = _("reopen request")
        verbose_name_plural = _("reopen requests")
        ordering = ["case", "at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="portal_reopen_one_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} @ {self.at:%Y-%m-%d} ({self.status})"
