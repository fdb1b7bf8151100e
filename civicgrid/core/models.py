"""Platform-wide records: the log of who saw which personal data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonalDataAccess(models.Model):
    """One row each time a person's unmasked phone or ID number is shown to a user.

    Append-only; written by ``civicgrid.core.actions.do_log_personal_data_access``.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("viewer")
    )
    subject_type = models.CharField(_("record type"), max_length=64)
    subject_id = models.CharField(_("record id"), max_length=64)
    field = models.CharField(_("field"), max_length=64)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="pda_subject_idx")]

    def __str__(self) -> str:
        return (
            f"{self.actor_id} {self.subject_type}:{self.subject_id}.{self.field} @ {self.at:%Y-%m-%d %H:%M}"
        )
