"""The versioned JSON API. Each app contributes a router; all share the permission module.

Docs: /api/v1/docs (Swagger UI served from django-ninja's own static files); schema: /api/v1/openapi.json.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from civicgrid.grids.api import router as grids_router
from civicgrid.jurisdictions.api import router as jurisdictions_router

api = NinjaAPI(
    title="CivicGrid API",
    version="1",
    urls_namespace="api-v1",
    auth=[django_auth],
    description="Staff API of CivicGrid. Every answer is limited to the caller's jurisdiction.",
)
api.add_router("/", jurisdictions_router)
api.add_router("/", grids_router)


@api.exception_handler(PermissionError)
def permission_error(request: HttpRequest, exc: PermissionError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)
