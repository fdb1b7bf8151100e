"""The working calendar in the admin.

The calendar is global (one for the whole platform, every jurisdiction's deadlines depend on it), so like
unit types it is for superusers (platform operators) only, not for administrators of a subtree.
The natural key (the date, valid_from) is read-only once a row exists: changing it would be a different row.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from civicgrid.accounts.permissions import acting_user
from civicgrid.workcalendar import actions
from civicgrid.workcalendar.models import CalendarDay, OfficeHours


class SuperuserOnlyMixin:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    has_change_permission = has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class CalendarDayForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CalendarDay
        fields = ("date", "kind", "name", "source")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        day = cleaned.get("date", self.instance.date if self.instance.pk else None)
        if day is not None and cleaned.get("kind"):
            actions.check_calendar_day(
                day=day,
                kind=cleaned["kind"],
                name=cleaned.get("name", ""),
                source=cleaned.get("source", ""),
            )
        return cleaned


@admin.register(CalendarDay)
class CalendarDayAdmin(SuperuserOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = CalendarDayForm
    list_display = ("date", "kind", "name", "source", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name", "source")
    date_hierarchy = "date"

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarDay | None = None) -> tuple[str, ...]:
        return ("date",) if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: CalendarDay, form: forms.ModelForm[CalendarDay], change: bool
    ) -> None:
        saved = actions.do_set_calendar_day(
            day=obj.date, kind=obj.kind, name=obj.name, source=obj.source, actor=acting_user(request)
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        actions.do_delete_calendar_day(obj.date, actor=acting_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        actor = acting_user(request)
        for day in list(queryset.values_list("date", flat=True)):
            actions.do_delete_calendar_day(day, actor=actor)


class OfficeHoursForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = OfficeHours
        fields = ("valid_from", "morning_start", "morning_end", "afternoon_start", "afternoon_end")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("morning_start") is not None and cleaned.get("morning_end") is not None:
            actions.check_office_hours(
                morning_start=cleaned["morning_start"],
                morning_end=cleaned["morning_end"],
                afternoon_start=cleaned.get("afternoon_start"),
                afternoon_end=cleaned.get("afternoon_end"),
            )
        return cleaned


@admin.register(OfficeHours)
class OfficeHoursAdmin(SuperuserOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = OfficeHoursForm
    list_display = ("valid_from", "morning_start", "morning_end", "afternoon_start", "afternoon_end")

    def get_readonly_fields(self, request: HttpRequest, obj: OfficeHours | None = None) -> tuple[str, ...]:
        return ("valid_from",) if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: OfficeHours, form: forms.ModelForm[OfficeHours], change: bool
    ) -> None:
        saved = actions.do_set_office_hours(
            valid_from=obj.valid_from,
            morning_start=obj.morning_start,
            morning_end=obj.morning_end,
            afternoon_start=obj.afternoon_start,
            afternoon_end=obj.afternoon_end,
            actor=acting_user(request),
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: OfficeHours) -> None:
        actions.do_delete_office_hours(obj.valid_from, actor=acting_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OfficeHours]) -> None:
        actor = acting_user(request)
        for valid_from in list(queryset.values_list("valid_from", flat=True)):
            actions.do_delete_office_hours(valid_from, actor=actor)
