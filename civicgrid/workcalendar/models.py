"""The admin-editable part of the working calendar: day overrides and dated office hours.

Neither table needs a row for the calendar to work: holidays and make-up working days come from the
``chinesecalendar`` package and office hours default to 08:00–12:00 / 14:00–18:00 (civicgrid.lib.workcalendar).
Rows here win over both.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.lib.workcalendar import DayKind


class Kind(models.TextChoices):
    """Mirrors civicgrid.lib.workcalendar.DayKind (the values must stay equal)."""

    WORKDAY = DayKind.WORKDAY.value, _("working day")
    WEEKEND = DayKind.WEEKEND.value, _("weekend")
    PUBLIC_HOLIDAY = DayKind.PUBLIC_HOLIDAY.value, _("public holiday")
    MAKEUP_WORKDAY = DayKind.MAKEUP_WORKDAY.value, _("make-up working day")


class CalendarDay(models.Model):
    """One date whose kind an administrator set by hand (a new State Council notice the package does not
    know yet, a local closure); it wins over the package and the weekday rule."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=64, blank=True, help_text=_("e.g. 国庆节"))
    source = models.CharField(
        _("source"),
        max_length=100,
        blank=True,
        help_text=_("The notice the row comes from (its document number), or “admin”"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"


class OfficeHours(models.Model):
    """The office hours in force from ``valid_from`` until the next row's ``valid_from`` (夏季作息 etc.).
    Rows are dated so that a new schedule does not rewrite the deadlines of the past."""

    valid_from = models.DateField(_("valid from"), unique=True)
    morning_start = models.TimeField(_("morning start"))
    morning_end = models.TimeField(_("morning end"))
    afternoon_start = models.TimeField(
        _("afternoon start"), null=True, blank=True, help_text=_("Leave empty for a single period")
    )
    afternoon_end = models.TimeField(_("afternoon end"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("office hours")
        verbose_name_plural = _("office hours")
        ordering = ["valid_from"]

    def __str__(self) -> str:
        periods = f"{self.morning_start:%H:%M}–{self.morning_end:%H:%M}"
        if self.afternoon_start is not None and self.afternoon_end is not None:
            periods += f", {self.afternoon_start:%H:%M}–{self.afternoon_end:%H:%M}"
        return f"{self.valid_from.isoformat()}: {periods}"
