from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from civicgrid.accounts import permissions
from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import acting_user
from civicgrid.core.admin_scope import ScopedAdminMixin
from civicgrid.grids import actions
from civicgrid.grids.models import Building, GridCell


class StaffInScopeMixin(ScopedAdminMixin):
    """Leaders, workers and building heads are chosen among staff the administrator may administer."""

    def _staff_choices(self, request: HttpRequest) -> QuerySet[User]:
        return permissions.visible_staff(request.user).filter(is_active=True)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is User:
            kwargs["queryset"] = self._staff_choices(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is User:
            kwargs["queryset"] = self._staff_choices(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(GridCell)
class GridCellAdmin(StaffInScopeMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_path = "community__path"
    list_display = ("code", "name", "community", "leader", "household_count", "is_active")
    list_filter = ("is_active", "community__parent")
    search_fields = ("code", "name", "community__name")
    list_select_related = ("community", "leader")
    # Boundaries change only through `import_grid_cells`, which checks overlaps and gaps across cells.
    readonly_fields = ("code", "community", "boundary", "area_m2")
    fields = (
        "code",
        "name",
        "community",
        "household_count",
        "leader",
        "workers",
        "is_active",
        "area_m2",
        "boundary",
    )
    filter_horizontal = ("workers",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # new cells come from a checked GeoJSON import

    def save_model(
        self, request: HttpRequest, obj: GridCell, form: ModelForm[GridCell], change: bool
    ) -> None:
        data = form.cleaned_data
        actions.do_update_grid_cell(
            obj,
            name=data["name"],
            household_count=data["household_count"],
            is_active=data["is_active"],
            leader=data["leader"],
            workers=list(data["workers"]),
            actor=acting_user(request),
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Workers were saved by the action in save_model."""


@admin.register(Building)
class BuildingAdmin(StaffInScopeMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_path = "grid_cell__community__path"
    list_display = ("code", "name", "grid_cell", "head", "household_count")
    search_fields = ("code", "name", "address")
    list_select_related = ("grid_cell", "head")
    autocomplete_fields = ("grid_cell",)

    def save_model(
        self, request: HttpRequest, obj: Building, form: ModelForm[Building], change: bool
    ) -> None:
        saved, _created = actions.do_upsert_building(
            code=obj.code,
            name=obj.name,
            grid_cell=obj.grid_cell,
            head=obj.head,
            household_count=obj.household_count,
            address=obj.address,
            lon=obj.lon,
            lat=obj.lat,
            actor=acting_user(request),
        )
        obj.pk = saved.pk
