from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    from civicgrid.accounts import permissions

    scope = permissions.scope_of(request.user)
    return {
        "site_name": settings.CIVICGRID_SITE_NAME,
        # The navigation offers only what the user may open.
        "nav_can_view_staff": scope.has(permissions.Capability.VIEW_STAFF),
        "nav_workplaces": {w.value for w in scope.workplaces()},
    }
