"""The case catalogue in the admin (superusers: it is city-wide), and a read-only view of cases."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from civicgrid.accounts.permissions import acting_user
from civicgrid.cases.actions import catalog
from civicgrid.cases.models import Case, CaseEvent, Category, EscalationRule, TimeLimit


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
        return False  # deactivate instead: cases and history point at these rows


@admin.register(Category)
class CategoryAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "parent", "unit_type", "min_level", "requires_verification", "is_active")
    list_filter = ("depth", "min_level", "requires_verification", "allow_reopen", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("path", "depth")
    list_select_related = ("parent", "unit_type")
    autocomplete_fields = ("parent",)

    def save_model(
        self, request: HttpRequest, obj: Category, form: ModelForm[Category], change: bool
    ) -> None:
        catalog.do_save_category(obj, actor=acting_user(request))


@admin.register(TimeLimit)
class TimeLimitAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "stage",
        "seq",
        "label",
        "category",
        "nature",
        "handling_class",
        "urgency",
        "value",
        "unit",
        "is_active",
    )
    list_filter = ("stage", "unit", "nature", "handling_class", "urgency", "is_active")
    search_fields = ("label", "category__name", "category__code")
    autocomplete_fields = ("category",)

    def save_model(
        self, request: HttpRequest, obj: TimeLimit, form: ModelForm[TimeLimit], change: bool
    ) -> None:
        catalog.do_save_time_limit(obj, actor=acting_user(request))


@admin.register(EscalationRule)
class EscalationRuleAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("stage", "threshold", "action", "category", "level", "is_active")
    list_filter = ("stage", "threshold", "action", "level", "is_active")
    autocomplete_fields = ("category",)

    def save_model(
        self, request: HttpRequest, obj: EscalationRule, form: ModelForm[EscalationRule], change: bool
    ) -> None:
        catalog.do_save_escalation_rule(obj, actor=acting_user(request))


class CaseEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    fields = ("seq", "code", "actor", "at", "from_status", "to_status", "unit", "data")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: cases change only through their actions (the staff pages and the API)."""

    list_display = (
        "number",
        "title",
        "status",
        "level",
        "jurisdiction",
        "lead_unit",
        "received_at",
        "due_at",
    )
    list_filter = ("status", "level", "channel", "nature", "handling_class", "timing")
    search_fields = ("number", "title")
    list_select_related = ("jurisdiction", "lead_unit")
    exclude = ("reporter_phone",)  # personal data is revealed only through the logged action
    inlines = (CaseEventInline,)
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
