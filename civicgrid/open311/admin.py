"""Open311 in the admin: endpoints, services and their extra questions (platform operators), and API keys
(administrators of the endpoint's jurisdiction). Every save goes through an action; a new key's secret is
shown once, in the message after saving."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.permissions import acting_user, can_administer_path
from civicgrid.open311.actions import (
    do_delete_attribute_value,
    do_issue_api_key,
    do_revoke_api_key,
    do_save_attribute_value,
    do_save_endpoint,
    do_save_service_attribute,
    do_save_service_setting,
    do_update_api_key,
)
from civicgrid.open311.models import ApiKey, AttributeValue, Endpoint, ServiceAttribute, ServiceSetting


class OperatorOnly:
    """City-wide settings: visible and editable by superusers only; rows are switched off, not deleted."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Endpoint)
class EndpointAdmin(OperatorOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "jurisdiction", "is_active", "publish_requests", "updated_at")
    raw_id_fields = ("jurisdiction",)

    def save_model(
        self, request: HttpRequest, obj: Endpoint, form: ModelForm[Endpoint], change: bool
    ) -> None:
        do_save_endpoint(obj, actor=acting_user(request))


@admin.register(ServiceSetting)
class ServiceSettingAdmin(OperatorOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("category", "is_listed", "is_private", "service_type", "updated_at")
    list_filter = ("is_listed", "is_private", "service_type")
    search_fields = ("category__name", "category__code")
    raw_id_fields = ("category",)

    def save_model(
        self, request: HttpRequest, obj: ServiceSetting, form: ModelForm[ServiceSetting], change: bool
    ) -> None:
        do_save_service_setting(obj, actor=acting_user(request))


class ValuesFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    request: HttpRequest  # set by AttributeValueInline.get_formset

    def save_new(self, form: ModelForm[AttributeValue], commit: bool = True) -> AttributeValue:
        value = form.save(commit=False)
        value.attribute = self.instance
        return do_save_attribute_value(value, actor=acting_user(self.request))

    def save_existing(
        self, form: ModelForm[AttributeValue], obj: AttributeValue, commit: bool = True
    ) -> AttributeValue:
        return do_save_attribute_value(form.save(commit=False), actor=acting_user(self.request))

    def delete_existing(self, obj: AttributeValue, commit: bool = True) -> None:
        do_delete_attribute_value(obj, actor=acting_user(self.request))


class AttributeValueInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AttributeValue
    formset = ValuesFormSet
    fields = ("key", "name", "order")
    extra = 2

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request  # type: ignore[attr-defined]  # the save hooks above need the acting user
        return formset


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(OperatorOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("category", "order", "code", "datatype", "required", "is_active")
    list_filter = ("datatype", "required", "is_active")
    search_fields = ("code", "description", "category__name", "category__code")
    raw_id_fields = ("category",)
    inlines = (AttributeValueInline,)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ServiceAttribute, form: ModelForm[ServiceAttribute], change: bool
    ) -> None:
        do_save_service_attribute(obj, actor=acting_user(request))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.save()  # through ValuesFormSet's hooks, i.e. the actions


class ApiKeyForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ApiKey
        fields = ("name", "endpoint", "contact", "requests_per_minute")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Keys are issued here (the secret is shown once, after saving) and revoked with the list action."""

    form = ApiKeyForm
    list_display = (
        "name",
        "prefix",
        "endpoint",
        "requests_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("endpoint", "revoked_at")
    search_fields = ("name", "prefix", "contact")
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        keys = super().get_queryset(request).select_related("endpoint__jurisdiction")
        if request.user.is_superuser:
            return keys
        return keys.filter(
            pk__in=[k.pk for k in keys if can_administer_path(request.user, k.endpoint.jurisdiction.path)]
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("endpoint", "prefix", "created_at", "last_used_at", "revoked_at") if obj else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "endpoint", "contact", "requests_per_minute")
        return (
            "name",
            "endpoint",
            "prefix",
            "contact",
            "requests_per_minute",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm[ApiKey], change: bool) -> None:
        actor = acting_user(request)
        if change:
            do_update_api_key(
                obj,
                name=obj.name,
                contact=obj.contact,
                requests_per_minute=obj.requests_per_minute,
                actor=actor,
            )
            return
        key, secret = do_issue_api_key(
            obj.endpoint,
            name=obj.name,
            contact=obj.contact,
            requests_per_minute=obj.requests_per_minute,
            actor=actor,
        )
        obj.pk = key.pk
        messages.warning(
            request,
            _("The key for %(name)s is %(secret)s — copy it now: it is not stored and cannot be shown again.")
            % {"name": key.name, "secret": secret},
        )

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor = acting_user(request)
        for key in queryset.select_related("endpoint__jurisdiction"):
            do_revoke_api_key(key, actor=actor)
