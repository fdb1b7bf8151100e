from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from civicgrid.accounts.permissions import acting_user
from civicgrid.core.admin_scope import ScopedAdminMixin, configure_site
from civicgrid.jurisdictions import actions
from civicgrid.jurisdictions.models import Jurisdiction, Unit, UnitType

configure_site()


@admin.register(Jurisdiction)
class JurisdictionAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_path = "path"
    list_display = ("code", "name", "level", "kind", "parent", "is_active")
    list_filter = ("level", "kind", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("path",)
    fields = ("code", "name", "level", "kind", "parent", "path", "boundary", "is_active")
    list_select_related = ("parent",)

    def save_model(
        self, request: HttpRequest, obj: Jurisdiction, form: ModelForm[Jurisdiction], change: bool
    ) -> None:
        saved, _created = actions.do_upsert_jurisdiction(
            code=obj.code,
            name=obj.name,
            level=obj.level,
            parent=obj.parent,
            kind=obj.kind,
            boundary=obj.boundary,
            actor=acting_user(request),
        )
        obj.pk, obj.path = saved.pk, saved.path


@admin.register(UnitType)
class UnitTypeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "sort_order")
    search_fields = ("code", "name")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    has_change_permission = has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def save_model(
        self, request: HttpRequest, obj: UnitType, form: ModelForm[UnitType], change: bool
    ) -> None:
        saved = actions.do_upsert_unit_type(
            code=obj.code, name=obj.name, sort_order=obj.sort_order, actor=acting_user(request)
        )
        obj.pk = saved.pk


@admin.register(Unit)
class UnitAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_path = "jurisdiction__path"
    list_display = ("code", "name", "unit_type", "jurisdiction", "is_active")
    list_filter = ("unit_type", "is_active")
    search_fields = ("code", "name", "short_name")
    list_select_related = ("unit_type", "jurisdiction")
    autocomplete_fields = ("jurisdiction",)

    def save_model(self, request: HttpRequest, obj: Unit, form: ModelForm[Unit], change: bool) -> None:
        saved, _created = actions.do_upsert_unit(
            code=obj.code,
            name=obj.name,
            unit_type=obj.unit_type,
            jurisdiction=obj.jurisdiction,
            parent=obj.parent,
            short_name=obj.short_name,
            office_phone=obj.office_phone,
            sort_order=obj.sort_order,
            actor=acting_user(request),
        )
        obj.pk = saved.pk
