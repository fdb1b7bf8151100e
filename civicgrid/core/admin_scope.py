"""A ModelAdmin mixin that puts the admin site under the permission module.

The admin is the administrators' tool: a user needs the ADMINISTER capability (or to be a superuser), and
sees and edits only rows whose jurisdiction lies in a subtree where they hold it. Django's per-model
permissions are not used for this: the permission module is the one source of truth.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from civicgrid.accounts import permissions
from civicgrid.accounts.permissions import Capability


class ScopedAdminMixin:
    #: The lookup from this model to a jurisdiction path, e.g. "path" or "community__path".
    scope_path: str = "path"

    def _scope(self, request: HttpRequest) -> permissions.Scope:
        return permissions.scope_of(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        return qs.filter(self._scope(request).path_q(Capability.ADMINISTER, self.scope_path)).distinct()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._scope(request).has(Capability.ADMINISTER)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._scope(request).has(Capability.ADMINISTER)

    has_change_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._scope(request).has(Capability.ADMINISTER)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Records are deactivated, not deleted: cases and history will point at them.
        return bool(request.user.is_superuser)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        from civicgrid.jurisdictions.models import Jurisdiction, Unit

        scope = self._scope(request)
        if db_field.related_model is Jurisdiction:
            kwargs["queryset"] = Jurisdiction.objects.filter(scope.path_q(Capability.ADMINISTER, "path"))
        elif db_field.related_model is Unit:
            kwargs["queryset"] = Unit.objects.filter(
                scope.path_q(Capability.ADMINISTER, "jurisdiction__path")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


def configure_site() -> None:
    from django.utils.translation import gettext_lazy as _

    admin.site.site_header = _("CivicGrid administration")
    admin.site.site_title = _("CivicGrid")
    admin.site.index_title = _("Jurisdictions, units, staff and grid cells")
