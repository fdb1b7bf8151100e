"""The portal policy in the admin: one row, for platform operators (it governs the whole public portal)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from civicgrid.accounts.permissions import acting_user
from civicgrid.portal.actions import do_save_portal_policy
from civicgrid.portal.models import PortalPolicy


@admin.register(PortalPolicy)
class PortalPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "__str__",
        "reopen_window_days",
        "submissions_per_ip_per_hour",
        "submissions_per_phone_per_day",
        "service_area",
        "updated_at",
    )
    raw_id_fields = ("service_area",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row (made by the migration); edit it rather than adding another.
        return bool(request.user.is_superuser) and not PortalPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: PortalPolicy, form: ModelForm[PortalPolicy], change: bool
    ) -> None:
        do_save_portal_policy(obj, actor=acting_user(request))
