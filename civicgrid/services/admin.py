"""The service catalogue (superusers: it is city-wide), centre details (the district's administrators) and a
read-only view of visits. Every write goes through civicgrid.services.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.permissions import acting_user
from civicgrid.core.admin_scope import ScopedAdminMixin
from civicgrid.services import actions
from civicgrid.services.models import (
    RequiredMaterial,
    ServiceCenterProfile,
    ServiceItem,
    VisitEvent,
    WindowVisit,
)


class SuperuserOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: visits point at items


class RequiredMaterialInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RequiredMaterial
    fields = ("order", "name", "copies", "form", "required", "notes")
    extra = 1

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Visits keep a snapshot of the list, so removing a material rewrites no history.
        return bool(request.user.is_superuser)


class ServiceItemForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ServiceItem
        fields = (
            "code",
            "name",
            "description",
            "handling_class",
            "is_active",
            "order",
            "legal_limit_value",
            "promised_limit_value",
            "limit_unit",
            "unit_type",
            "level",
            "fee",
            "basis",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        legal, promised = data.get("legal_limit_value"), data.get("promised_limit_value")
        if legal is not None and promised is not None and promised > legal:
            # The action checks the same; saying it here keeps the admin's form and its typed values.
            self.add_error(
                "promised_limit_value", _("The promised limit may not be longer than the legal limit.")
            )
        return data


@admin.register(ServiceItem)
class ServiceItemAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    form = ServiceItemForm
    list_display = (
        "code",
        "name",
        "handling_class",
        "promised_limit_value",
        "legal_limit_value",
        "limit_unit",
        "unit_type",
        "level",
        "is_active",
        "order",
    )
    list_filter = ("handling_class", "level", "limit_unit", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("unit_type",)
    inlines = (RequiredMaterialInline,)
    fieldsets = (
        (None, {"fields": ("code", "name", "description", "handling_class", "is_active", "order")}),
        (_("Time limits"), {"fields": ("legal_limit_value", "promised_limit_value", "limit_unit")}),
        (_("Responsibility"), {"fields": ("unit_type", "level")}),
        (_("Fee and legal basis"), {"fields": ("fee", "basis")}),
    )

    def save_model(
        self, request: HttpRequest, obj: ServiceItem, form: ModelForm[ServiceItem], change: bool
    ) -> None:
        actions.do_save_service_item(obj, actor=acting_user(request))

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        actor = acting_user(request)
        instances = formset.save(commit=False)  # builds the rows; the actions write them
        for material in formset.deleted_objects:
            actions.do_delete_required_material(material, actor=actor)
        for material in instances:
            material.item = form.instance
            actions.do_save_required_material(material, actor=actor)


@admin.register(ServiceCenterProfile)
class ServiceCenterProfileAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_path = "unit__jurisdiction__path"
    list_display = ("unit", "address", "phone", "opening_hours")
    search_fields = ("unit__name", "address")
    list_select_related = ("unit",)

    def save_model(
        self,
        request: HttpRequest,
        obj: ServiceCenterProfile,
        form: ModelForm[ServiceCenterProfile],
        change: bool,
    ) -> None:
        actions.do_save_service_center_profile(obj, actor=acting_user(request))


class VisitEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = VisitEvent
    fields = ("seq", "code", "from_status", "to_status", "actor", "at", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WindowVisit)
class WindowVisitAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: visits change only through their actions (the window pages)."""

    list_display = (
        "number",
        "item",
        "service_center",
        "outcome",
        "status",
        "registered_at",
        "promised_due_at",
    )
    list_filter = ("outcome", "status")
    search_fields = ("number",)
    list_select_related = ("item", "service_center")
    exclude = ("applicant_phone", "id_number")  # personal data is not shown unmasked here
    inlines = (VisitEventInline,)
    date_hierarchy = "registered_at"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
