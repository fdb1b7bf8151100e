from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts import actions, permissions
from civicgrid.accounts.models import ApiToken, RoleGrant, User
from civicgrid.accounts.permissions import acting_user
from civicgrid.accounts.tokens import do_revoke_api_token
from civicgrid.core.admin_scope import ScopedAdminMixin
from civicgrid.core.models import PersonalDataAccess


class RoleGrantInline(ScopedAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = RoleGrant
    fk_name = "user"
    scope_path = "jurisdiction__path"
    fields = ("role", "jurisdiction", "unit")
    extra = 1
    autocomplete_fields = ("jurisdiction", "unit")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._scope(request).has(permissions.Capability.ADMINISTER)


class StaffForm(forms.ModelForm):  # type: ignore[type-arg]
    phone = forms.CharField(label=_("mobile phone"), required=False, max_length=20)
    password = forms.CharField(
        label=_("new password"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Leave empty to keep it."),
    )

    class Meta:
        model = User
        fields = ("username", "full_name", "phone", "is_active")

    def clean_phone(self) -> str:
        try:
            return actions.check_phone(self.cleaned_data.get("phone") or "")
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["phone"]) from None


@admin.register(User)
class StaffAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = StaffForm
    scope_path = "grants__jurisdiction__path"
    list_display = ("username", "full_name", "masked_phone", "is_active", "last_login")
    list_filter = ("is_active", "grants__role")
    search_fields = ("username", "full_name")
    inlines = [RoleGrantInline]

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, obj: User) -> str:
        return obj.masked_phone

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        # A staff account without grants is visible to no scoped administrator: add it through a grant.
        return qs

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        actor = acting_user(request)
        data = form.cleaned_data
        if change:
            saved = actions.do_update_staff(
                obj,
                full_name=data["full_name"],
                phone=data["phone"],
                is_active=data["is_active"],
                actor=actor,
            )
        else:
            saved = actions.do_create_staff(
                username=data["username"], full_name=data["full_name"], phone=data["phone"], actor=actor
            )
        if data.get("password"):
            saved.set_password(data["password"])
            saved.save(update_fields=["password"])
        obj.pk = saved.pk

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        actor = acting_user(request)
        user: User = form.instance
        for grant_form in formset.forms:
            if not grant_form.has_changed() and not grant_form.cleaned_data.get("DELETE"):
                continue
            data = grant_form.cleaned_data
            existing: RoleGrant | None = grant_form.instance if grant_form.instance.pk else None
            if existing is not None:
                actions.do_revoke_role(existing, actor=actor)
            if data and not data.get("DELETE") and data.get("role"):
                actions.do_grant_role(
                    user,
                    role=data["role"],
                    jurisdiction=data.get("jurisdiction"),
                    unit=data.get("unit"),
                    actor=actor,
                )


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "actor", "subject_type", "subject_id", "field", "purpose")
    list_filter = ("subject_type", "field")
    date_hierarchy = "at"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: tokens are issued by ``manage.py issue_api_token`` (the secret is shown once, there) and
    only revoked here, through the action."""

    scope_path = "user__grants__jurisdiction__path"
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected API tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = acting_user(request)
        for token in queryset.select_related("user"):
            do_revoke_api_token(token, actor=actor)
