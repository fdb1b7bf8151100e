from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The outbox as superusers see it when a message did not arrive. Read-only: rows are written by the
    actions and the worker only. The address is shown masked: an unmasked view would have to be logged."""

    list_display = ("created_at", "channel", "kind", "destination", "status", "attempts", "sent_at", "ref")
    list_filter = ("status", "channel", "kind")
    search_fields = ("kind", "ref", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    fields = (
        "channel",
        "kind",
        "recipient",
        "destination",
        "subject",
        "body",
        "ref",
        "data",
        "status",
        "attempts",
        "available_at",
        "claimed_by",
        "claimed_until",
        "sent_at",
        "read_at",
        "last_error",
        "dedupe_key",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("to"))
    def destination(self, obj: Notification) -> str:
        return obj.destination_label

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
