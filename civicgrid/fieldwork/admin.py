from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicgrid.core.admin_scope import ScopedAdminMixin
from civicgrid.fieldwork.models import HouseholdVisit


@admin.register(HouseholdVisit)
class HouseholdVisitAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: visits are written by the people who made them (do_log_household_visit); administrators
    look them up, e.g. to check a cell's visit coverage."""

    scope_path = "grid_cell__community__path"
    list_display = ("visited_at", "grid_cell", "building", "address", "purpose", "by", "needs_follow_up")
    list_filter = ("purpose", "needs_follow_up")
    search_fields = ("address", "household_head", "grid_cell__code", "grid_cell__name")
    list_select_related = ("grid_cell", "building", "by")
    date_hierarchy = "visited_at"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
