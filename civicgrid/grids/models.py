"""Grid cells (网格) inside communities, and the buildings in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class GridCell(models.Model):
    """A 网格: a polygon inside one community with a 15-digit code (community 12 + sequence 3),
    a grid leader (网格长), grid workers (网格员) and a household count."""

    code = models.CharField(_("grid code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=64)
    community = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="grid_cells",
        limit_choices_to={"level": "community"},
        verbose_name=_("community"),
    )
    boundary = models.JSONField(_("boundary"), help_text=_("GeoJSON Polygon or MultiPolygon"))
    # Derived from the boundary by the action that writes it; the bbox columns prefilter map queries.
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    center_lon = models.FloatField(editable=False)
    center_lat = models.FloatField(editable=False)
    area_m2 = models.FloatField(_("area (m²)"), editable=False)
    household_count = models.PositiveIntegerField(_("households"), default=0)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_grid_cells",
        verbose_name=_("grid leader"),
    )
    workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="grid_cells", verbose_name=_("grid workers")
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"], name="gridcell_bbox_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Building(models.Model):
    """A building in a grid cell, with its 楼长 (building head)."""

    grid_cell = models.ForeignKey(
        GridCell, on_delete=models.CASCADE, related_name="buildings", verbose_name=_("grid cell")
    )
    code = models.CharField(_("building code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    address = models.CharField(_("address"), max_length=200, blank=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_buildings",
        verbose_name=_("building head"),
    )
    household_count = models.PositiveIntegerField(_("households"), default=0)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
