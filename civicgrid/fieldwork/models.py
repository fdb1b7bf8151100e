"""The grid worker's household visit log (入户走访记录)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VisitPurpose(models.TextChoices):
    ROUTINE = "routine", _("routine visit")  # 日常走访
    FOLLOW_UP = "follow_up", _("follow-up visit")  # 回访 (of an earlier visit, not a case's revisit)
    SPECIAL_POPULATION = "special_population", _("care for a special group")  # 特殊人群关爱
    SAFETY_CHECK = "safety_check", _("safety check")  # 安全检查
    DISPUTE_SCREENING = "dispute_screening", _("dispute screening")  # 矛盾纠纷排查
    OTHER = "other", pgettext_lazy("visit purpose", "other")


class HouseholdVisit(models.Model):
    """One visit to a household in a grid cell, logged by the grid worker (or building head) who made it.

    A visit that found a problem may lead to an event report; ``created_case`` then points at it."""

    grid_cell = models.ForeignKey(
        "grids.GridCell",
        on_delete=models.PROTECT,
        related_name="household_visits",
        verbose_name=_("grid cell"),
        db_index=False,  # fieldwork_visit_cell_idx starts with it
    )
    building = models.ForeignKey(
        "grids.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="household_visits",
        verbose_name=_("building"),
    )
    address = models.CharField(_("address or room"), max_length=200)
    household_head = models.CharField(_("head of household"), max_length=64, blank=True)
    visited_at = models.DateTimeField(_("visited at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="household_visits",
        verbose_name=_("visited by"),
        db_index=False,  # fieldwork_visit_by_idx starts with it
    )
    purpose = models.CharField(
        pgettext_lazy("household visit", "purpose"), max_length=20, choices=VisitPurpose.choices
    )
    findings = models.TextField(_("findings"))
    needs_follow_up = models.BooleanField(_("needs a follow-up"), default=False)
    created_case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported case"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        ordering = ["-visited_at", "-pk"]
        indexes = [
            # The visit log of a cell (a worker's, a leader's cells) and of a person, newest first.
            models.Index(fields=["grid_cell", "-visited_at"], name="fieldwork_visit_cell_idx"),
            models.Index(fields=["by", "-visited_at"], name="fieldwork_visit_by_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.address} @ {self.visited_at:%Y-%m-%d}"
