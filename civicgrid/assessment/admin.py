"""Assessment schemes in the admin: administrators edit the schemes of their own subtree, with the
indicators inline. Every save goes through civicgrid.assessment.actions (which also keeps the change log);
published rankings are read-only here (they are published from the assessment page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.permissions import Capability, acting_user, scope_of
from civicgrid.core.admin_scope import ScopedAdminMixin

from . import actions
from .models import AssessmentResult, AssessmentScheme, Indicator, SchemeEvent


class IndicatorFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            data = form.cleaned_data
            probe = Indicator(
                rate=data.get("rate") or "",
                weight=data.get("weight"),
                target=data.get("target"),
                floor=data.get("floor"),
            )
            try:
                actions.check_indicator(probe)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(name if name in form.fields else None, message)


class IndicatorInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Indicator
    formset = IndicatorFormSet
    fields = ("order", "rate", "weight", "target", "floor")
    extra = 1

    # The permission module decides, not Django's model permissions (administrators have none of those);
    # the scheme itself is already scoped by AssessmentSchemeAdmin, and the actions check again.
    def _administers(self, request: HttpRequest) -> bool:
        return scope_of(request.user).has(Capability.ADMINISTER)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administers(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administers(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administers(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Published rankings keep their own copy of the indicators, so removing one rewrites no history.
        return self._administers(request)


class SchemeForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = AssessmentScheme
        fields = (
            "code",
            "name",
            "description",
            "is_active",
            "jurisdiction",
            "subject",
            "area_level",
            "unit_types",
            "period",
            "min_due",
            "basically_satisfied_weight",
            "partly_solved_weight",
            "grouping",
            "red_count",
            "black_count",
            "floor_to_black",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        probe = AssessmentScheme(
            **{k: v for k, v in data.items() if k not in ("unit_types", "jurisdiction") and v is not None}
        )
        if data.get("jurisdiction") is not None:
            probe.jurisdiction = data["jurisdiction"]
        try:
            actions.check_scheme(probe)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = SchemeForm
    scope_path = "jurisdiction__path"
    list_display = ("name", "code", "jurisdiction", "subject", "period", "is_active", "updated_at")
    list_filter = ("subject", "period", "is_active")
    search_fields = ("name", "code")
    list_select_related = ("jurisdiction",)
    filter_horizontal = ("unit_types",)
    inlines = (IndicatorInline,)
    fieldsets = (
        (None, {"fields": ("code", "name", "description", "is_active")}),
        (
            _("Who is assessed, and when"),
            {"fields": ("jurisdiction", "subject", "area_level", "unit_types", "period", "min_due")},
        ),
        (
            _("Weights of the revisit answers"),
            {"fields": ("basically_satisfied_weight", "partly_solved_weight")},
        ),
        (_("Red and black lists"), {"fields": ("grouping", "red_count", "black_count", "floor_to_black")}),
    )

    def save_model(
        self, request: HttpRequest, obj: AssessmentScheme, form: ModelForm[AssessmentScheme], change: bool
    ) -> None:
        actions.do_save_scheme(
            obj, unit_types=form.cleaned_data.get("unit_types"), actor=acting_user(request)
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The unit types were set by do_save_scheme; the indicators go through their own actions.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        actor = acting_user(request)
        instances = formset.save(commit=False)  # builds the rows; the actions write them
        for indicator in formset.deleted_objects:
            actions.do_delete_indicator(indicator, actor=actor)
        for indicator in instances:
            indicator.scheme = form.instance
            actions.do_save_indicator(indicator, actor=actor)


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AssessmentResult)
class AssessmentResultAdmin(ReadOnly, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_path = "scheme__jurisdiction__path"
    list_display = ("scheme", "period_first", "version", "published_at", "published_by")
    list_select_related = ("scheme", "published_by")
    fields = ("scheme", "period_first", "period_last", "version", "published_at", "published_by", "note")


@admin.register(SchemeEvent)
class SchemeEventAdmin(ReadOnly, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_path = "scheme__jurisdiction__path"
    list_display = ("scheme", "code", "actor", "at")
    list_filter = ("code",)
    list_select_related = ("scheme", "actor")
    fields = ("scheme", "code", "actor", "at", "data")
