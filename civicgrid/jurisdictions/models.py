"""The administrative tree (市 → 区/县 → 街道/乡镇 → 社区/村) and the units that work in it."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """Administrative levels, also the rungs of the escalation ladder (see LADDER)."""

    CITY = "city", _("city")
    COUNTY = "county", _("county")
    TOWNSHIP = "township", _("township")
    COMMUNITY = "community", _("community")


# Lowest first: 小事不出村、大事不出镇、难事不出区.
LADDER: tuple[Level, ...] = (Level.COMMUNITY, Level.TOWNSHIP, Level.COUNTY, Level.CITY)
CHILD_LEVEL: dict[Level, Level] = {
    Level.CITY: Level.COUNTY,
    Level.COUNTY: Level.TOWNSHIP,
    Level.TOWNSHIP: Level.COMMUNITY,
}


class Jurisdiction(models.Model):
    """One administrative area. ``path`` is the chain of codes from the root ("430100/430103/…/"), so a
    subtree is ``path__startswith`` on an indexed column: the permission module depends on it."""

    code = models.CharField(_("division code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=16, blank=True, help_text=_("Local type, e.g. 街道, 镇, 乡, 社区, 村")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(_("path"), max_length=96, unique=True, editable=False)
    boundary = models.JSONField(
        _("boundary"), null=True, blank=True, help_text=_("GeoJSON Polygon or MultiPolygon")
    )
    # Bounding box and centre, derived from the boundary by the action that sets it.
    min_lon = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lon = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    center_lon = models.FloatField(null=True, blank=True, editable=False)
    center_lat = models.FloatField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/")

    def ancestors_and_self(self) -> models.QuerySet[Jurisdiction]:
        codes = [part for part in self.path.split("/") if part]
        return Jurisdiction.objects.filter(code__in=codes).order_by("path")

    def subtree(self) -> models.QuerySet[Jurisdiction]:
        return Jurisdiction.objects.filter(path__startswith=self.path)


class UnitType(models.Model):
    """A kind of unit (城管, 住建, 民政, 司法所, 社区居委会 …). Data, edited in the admin."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("unit type")
        verbose_name_plural = _("unit types")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A department or office that receives and handles work; it belongs to one jurisdiction."""

    code = models.CharField(_("unit code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=32, blank=True)
    unit_type = models.ForeignKey(
        UnitType, on_delete=models.PROTECT, related_name="units", verbose_name=_("unit type")
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="units", verbose_name=_("jurisdiction")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    office_phone = models.CharField(
        _("office phone"), max_length=32, blank=True, help_text=_("The unit's public number, not a person's")
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["jurisdiction__path", "sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.short_name:
            self.short_name = self.name[:32]
        super().save(*args, **kwargs)
