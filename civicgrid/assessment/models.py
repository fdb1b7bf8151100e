"""Assessment (考核): schemes as data, and the results published under them.

- ``AssessmentScheme``: who is assessed (the units, grid cells or areas of one level inside a jurisdiction),
  how often (month, quarter, year), how the red and black lists (红黑榜) are drawn, and the weights a scheme
  gives to "basically satisfied" and "partly solved". Edited in the admin; no code names a scheme.
- ``Indicator``: one rate of the statistics (definitions.RATES) with its weight (points), the value that earns
  the full points (target) and the floor (底线) below which it earns none and, if the scheme says so, puts
  the subject on the black list.
- ``AssessmentResult`` / ``AssessmentRow``: a ranking as published for one period (a snapshot: the figures of
  a month keep moving as its cases close, a published ranking does not). Publishing again makes a new
  version; the old ones stay.
- ``SchemeEvent``: every change of a scheme and every publication, with who and when (append-only).

docs/assessment.md explains the scoring.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.jurisdictions.models import Level
from civicgrid.stats.definitions import RATES


class Subject(models.TextChoices):
    UNIT = "unit", _("units")
    GRID = "grid", _("grid cells")
    AREA = "area", _("areas")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("monthly")
    QUARTER = "quarter", _("quarterly")
    YEAR = "year", _("yearly")


class Grouping(models.TextChoices):
    """How the red list is drawn: the best of all, or the best of each group (榆林: top 5 per group)."""

    NONE = "", _("all together")
    PARENT = "parent", _("by the area above (grid cells: community; units: their jurisdiction)")
    UNIT_TYPE = "unit_type", _("by unit type")


class Standing(models.TextChoices):
    RED = "red", _("red list")
    BLACK = "black", _("black list")
    RANKED = "ranked", _("ranked")
    UNRANKED = "unranked", _("not ranked")


RATE_CHOICES = [(r.code, r.label) for r in RATES]


class AssessmentScheme(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="assessment_schemes",
        verbose_name=_("jurisdiction"),
        help_text=_("The area whose units, grid cells or areas are assessed, counted by its figures."),
    )
    subject = models.CharField(_("what is assessed"), max_length=8, choices=Subject.choices)
    area_level = models.CharField(
        _("area level"),
        max_length=16,
        choices=Level.choices,
        blank=True,
        help_text=_("For areas: which level below the jurisdiction (streets, communities …)."),
    )
    unit_types = models.ManyToManyField(
        "jurisdictions.UnitType",
        blank=True,
        related_name="+",
        verbose_name=_("unit types"),
        help_text=_("For units: only these types (none chosen: every unit of the jurisdiction)."),
    )
    period = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    min_due = models.PositiveIntegerField(
        _("fewest cases to be ranked"),
        default=5,
        help_text=_("Subjects with fewer cases due for closing are listed but not ranked."),
    )
    basically_satisfied_weight = models.DecimalField(
        _("weight of “basically satisfied”"),
        max_digits=4,
        decimal_places=3,
        default=1,
        help_text=_("The share of a “basically satisfied” answer that counts as satisfied (0–1)."),
    )
    partly_solved_weight = models.DecimalField(
        _("weight of “partly solved”"),
        max_digits=4,
        decimal_places=3,
        default=1,
        help_text=_("The share of a “partly solved” answer that counts as solved (0–1)."),
    )
    grouping = models.CharField(
        _("red list drawn"), max_length=16, choices=Grouping.choices, blank=True, default=Grouping.NONE
    )
    red_count = models.PositiveSmallIntegerField(
        _("red list size"), default=5, help_text=_("The best this many (of each group) make the red list.")
    )
    black_count = models.PositiveSmallIntegerField(
        _("black list size"), default=5, help_text=_("The worst this many (of all) make the black list.")
    )
    floor_to_black = models.BooleanField(
        _("below a floor means the black list"),
        default=True,
        help_text=_("A subject below any indicator's floor goes on the black list, whatever its rank."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["jurisdiction__path", "code"]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("scheme")
    )
    rate = models.CharField(_("rate"), max_length=32, choices=RATE_CHOICES)
    weight = models.DecimalField(_("weight (points)"), max_digits=6, decimal_places=2)
    target = models.DecimalField(
        _("target (%)"),
        max_digits=5,
        decimal_places=2,
        default=100,
        help_text=_("The rate that earns the full points (for returns, rework and reopening: at most this)."),
    )
    floor = models.DecimalField(
        _("floor (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Worse than this earns no points (for returns, rework and reopening: more than this). Between "
            "the floor and the target the points grow in a straight line; with no floor, from 0 % (100 %)."
        ),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["scheme", "rate"], name="indicator_scheme_rate")]

    def __str__(self) -> str:
        return f"{self.get_rate_display()} × {self.weight}"


class AssessmentResult(models.Model):
    """A ranking as published: the scheme as it was (``scheme_snapshot``) and one row per subject."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.PROTECT, related_name="results")
    period_first = models.DateField()
    period_last = models.DateField()
    version = models.PositiveIntegerField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    scheme_snapshot = models.JSONField()
    figures_as_of = models.DateTimeField(null=True, blank=True)  # the statistics' refresh time it read

    class Meta:
        ordering = ["-period_first", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "period_first", "version"], name="assessmentresult_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.period_first:%Y-%m} v{self.version}"


class AssessmentRow(models.Model):
    result = models.ForeignKey(AssessmentResult, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()  # the order of the published table
    subject_key = models.CharField(max_length=24)  # the unit's, grid cell's or area's id
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    group = models.CharField(max_length=100, blank=True)
    rank = models.PositiveIntegerField(null=True)
    score = models.CharField(max_length=64, blank=True)  # exact, as a fraction ("1737/20"); "" unscored
    standing = models.CharField(max_length=8, choices=Standing.choices)
    marks = models.JSONField()  # per indicator: the ratio, the points and whether below its floor
    counts = models.JSONField()  # every counter of the subject in the period

    class Meta:
        ordering = ["result", "position"]
        constraints = [
            models.UniqueConstraint(fields=["result", "position"], name="assessmentrow_position"),
        ]

    def __str__(self) -> str:
        return f"{self.result}: {self.name}"


class SchemeEvent(models.Model):
    """An append-only record of the scheme's changes and publications."""

    class Code(models.TextChoices):
        SAVED = "scheme.saved", _("scheme saved")
        INDICATOR_SAVED = "indicator.saved", _("indicator saved")
        INDICATOR_DELETED = "indicator.deleted", _("indicator removed")
        PUBLISHED = "result.published", _("ranking published")

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="events")
    code = models.CharField(max_length=24, choices=Code.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["scheme", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.code} {self.at}"
