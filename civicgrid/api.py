"""The versioned JSON API. Each app contributes a router; all share the permission module and the errors.

Docs: /api/docs (Swagger UI served from django-ninja's own static files, no CDN) and /api/v1/docs; the
OpenAPI document: /api/openapi.json and /api/v1/openapi.json (the same document).

Authentication: ``Authorization: Bearer cg_…`` (civicgrid.accounts.tokens) or the browser's session (with
Django's CSRF check on unsafe methods). Every error is JSON of one shape (``ErrorOut``):
``{"errors": [{"field": "title" | null, "reason": "…"}], "code": "invalid"}``, with the reason in the
user's language.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationErrorContext
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from ninja.openapi.views import openapi_json

from civicgrid.accounts.tokens import InvalidTokenError, SessionAuth, TokenAuth
from civicgrid.cases.actions import CaseConflict
from civicgrid.cases.api import router as cases_router
from civicgrid.cases.api_schemas import ErrorOut
from civicgrid.cases.workflow import Action, Status, TransitionNotAllowed
from civicgrid.core.errors import pydantic_reason
from civicgrid.grids.api import router as grids_router
from civicgrid.jurisdictions.api import router as jurisdictions_router


class CivicGridAPI(NinjaAPI):
    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext[Any]]
    ) -> NinjaValidationError:
        """django-ninja names a query field by its flat name only when the error is on the field itself;
        an error inside it (``status.0``) keeps the name of the view's parameter. Map the longest known
        prefix instead, so every error names the field as the client sent it."""
        error = super().validation_error_from_error_contexts(error_contexts)
        reverse: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for context in error_contexts:
            source = context.model.__ninja_param_source__
            for inner, flat in getattr(context.model, "__ninja_flatten_map_reverse__", {}).items():
                reverse[(source, *inner)] = (source, *flat)
        for item in error.errors:
            loc = tuple(item.get("loc", ()))
            for cut in range(len(loc), 1, -1):
                if loc[:cut] in reverse:
                    item["loc"] = reverse[loc[:cut]] + loc[cut:]
                    break
        return error


# Swagger UI would ask validator.swagger.io about the document; nothing on the docs page leaves the site.
_SWAGGER_SETTINGS = {"validatorUrl": None}

api = CivicGridAPI(
    title="CivicGrid API",
    version="1",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs=Swagger(settings=_SWAGGER_SETTINGS),
    description=(
        "Staff API of CivicGrid. Every answer is limited to the caller's jurisdiction: an object outside it "
        "is a 404, a missing capability a 403.\n\n"
        "Authenticate with `Authorization: Bearer cg_…` (`manage.py issue_api_token`) or a browser session "
        "(unsafe methods then need the `X-CSRFToken` header). Errors are "
        '`{"errors": [{"field": …, "reason": …}], "code": …}`.'
    ),
)
api.add_router("/", jurisdictions_router)
api.add_router("/", grids_router)
api.add_router("/", cases_router)


def error_response(
    request: HttpRequest, status: int, code: str, errors: list[tuple[str | None, str]]
) -> HttpResponse:
    """An ``ErrorOut`` answer (the schema routers declare for their error statuses)."""
    body = {"errors": [{"field": field, "reason": str(reason)} for field, reason in errors], "code": code}
    return api.create_response(request, body, status=status)


@api.exception_handler(DjangoValidationError)
def django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors: list[tuple[str | None, str]] = []
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            errors += [(None if field == NON_FIELD_ERRORS else field, message) for message in messages]
    else:
        errors = [(None, message) for message in exc.messages]
    return error_response(request, 422, "invalid", errors)


def _pydantic_field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """``("body", "body", "photos", 0, "name")`` → ``photos.0.name``: without the source (body, query, path,
    header) and, for a body, without the name of the view's body parameter."""
    parts = list(loc)
    parts = parts[2:] if parts and parts[0] == "body" else parts[1:]
    return ".".join(str(p) for p in parts) or None


@api.exception_handler(NinjaValidationError)
def request_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [(_pydantic_field(e.get("loc", ())), pydantic_reason(e)) for e in exc.errors]
    return error_response(request, 422, "invalid", errors)


@api.exception_handler(TransitionNotAllowed)
def transition_not_allowed(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
    reason = _("You cannot %(action)s a case that is %(status)s.") % {
        "action": Action(exc.action).label,
        "status": Status(exc.status).label if exc.status in Status.values else exc.status,
    }
    return error_response(request, 409, "transition_not_allowed", [(None, reason)])


@api.exception_handler(CaseConflict)
def case_conflict(request: HttpRequest, exc: CaseConflict) -> HttpResponse:
    # The message was translated when it was raised, inside this request's language.
    return error_response(request, 409, "conflict", [("version", str(exc))])


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", [(None, str(exc) or _("You may not do this."))])


@api.exception_handler(PermissionError)
def permission_error(request: HttpRequest, exc: PermissionError) -> HttpResponse:
    return error_response(request, 403, "forbidden", [(None, str(exc) or _("You may not do this."))])


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The same answer for "does not exist" and "outside your jurisdiction": existence is not leaked.
    return error_response(request, 404, "not_found", [(None, _("Not found."))])


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, "too_large", [(None, _("The request is too large."))])


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        if isinstance(exc, InvalidTokenError):
            code, reason = "invalid_token", str(exc)
        else:
            code, reason = "not_authenticated", _("Log in or send an API token.")
        response = error_response(request, 401, code, [(None, reason)])
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if exc.status_code == 400:  # django-ninja's only 400: a body it could not parse
        return error_response(request, 400, "bad_request", [(None, _("Enter a valid JSON."))])
    if exc.status_code == 403 and "CSRF" in str(exc):  # the session's CSRF check (SessionAuth)
        return error_response(
            request, 403, "csrf_failed", [(None, _("CSRF verification failed. Request aborted."))]
        )
    return error_response(request, exc.status_code, "error", [(None, str(exc))])


# --- The same OpenAPI document and docs page at unversioned URLs (civicgrid/urls.py) -----------------------


class _SharedSwagger(Swagger):
    def get_openapi_url(self, api: NinjaAPI, path_params: dict[str, Any]) -> str:
        return reverse("api-openapi")


_docs = _SharedSwagger(settings=_SWAGGER_SETTINGS)


def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document of the current version (public, like /api/v1/openapi.json)."""
    return openapi_json(request, api)


def docs_page(request: HttpRequest) -> HttpResponse:
    """Swagger UI from django-ninja's static files, reading /api/openapi.json."""
    return _docs.render_page(request, api)


__all__ = ["ErrorOut", "api", "docs_page", "error_response", "openapi_document"]
