"""The GeoReport v2 methods (plus discovery and FixMyStreet's servicerequestupdates).

Each view only parses, authorizes and calls: arguments through ``params``, a POST through
``submission.read_submission`` and ``actions.do_submit_request``, reads through ``queries``; answers are
built as plain values and rendered by ``formats`` in the format the URL asks for. Errors are the
specification's list of code + description: 400 bad arguments, 403 a missing or invalid key, 404 an unknown
jurisdiction, service, request or token; besides, 405 a wrong method and 429 a key over its rate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation, ValidationError
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt

from civicgrid.lib import clock
from civicgrid.open311 import catalogue, queries
from civicgrid.open311.actions import (
    ARGUMENT_OF_FIELD,
    RateLimited,
    check_rate,
    do_submit_request,
    key_for_secret,
)
from civicgrid.open311.formats import MIME_TYPES, Value, error_body, render, w3c_datetime
from civicgrid.open311.models import LIST_DATATYPES, ApiKey, Endpoint, ServiceRequest, ServiceType
from civicgrid.open311.params import (
    Open311Error,
    bad,
    boolean,
    comma_list,
    integer,
    moment,
    optional,
)
from civicgrid.open311.submission import read_submission

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORM_ONLY = gettext_noop(
    "Send the arguments as application/x-www-form-urlencoded (the specification's POST)."
)
MAX_IDS = 1000
MAX_PAGE = 100_000

View = Callable[..., HttpResponse]


def open311_view(*methods: str) -> Callable[[View], View]:
    """Format check, method check, and every failure as the specification's errors list."""

    def decorate(view: View) -> View:
        @csrf_exempt  # clients authenticate with their key, never with a browser session
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = render(
                    fmt,
                    "errors",
                    error_body(405, [_("Use %(methods)s here.") % {"methods": " or ".join(methods)}]),
                    status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return render(fmt, "errors", error_body(exc.status, exc.descriptions), status=exc.status)
            except RateLimited:
                return render(
                    fmt,
                    "errors",
                    error_body(429, [_("This API key has made too many requests this minute.")]),
                    status=429,
                )
            except SuspiciousOperation:  # too large a body, too many fields
                return render(fmt, "errors", error_body(400, [_("The request is too large.")]), status=400)
            except (BadRequest, MultiPartParserError):  # a body that is no readable form (Django's HTML 400)
                return render(fmt, "errors", error_body(400, [_(FORM_ONLY)]), status=400)

        return wrapper

    return decorate


def _arguments(request: HttpRequest) -> QueryDict:
    """The query string, and for a POST the form body on top (clients put jurisdiction_id in either)."""
    if request.method != "POST":
        return request.GET
    kind = (request.content_type or "").lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Open311Error(400, _(FORM_ONLY))
    merged = request.GET.copy()
    for name, values in request.POST.lists():
        merged.setlist(name, values)
    return merged


def _endpoint(data: QueryDict) -> Endpoint:
    code = optional(data, "jurisdiction_id")
    endpoints = list(Endpoint.objects.filter(is_active=True).select_related("jurisdiction"))
    if code is not None:
        for endpoint in endpoints:
            if endpoint.code == code:
                return endpoint
        raise Open311Error(404, bad("jurisdiction_id", _("No jurisdiction with this id is served here.")))
    if len(endpoints) == 1:
        return endpoints[0]
    if not endpoints:
        raise Open311Error(404, bad("jurisdiction_id", _("No jurisdiction is served here yet.")))
    raise Open311Error(
        400,
        bad(
            "jurisdiction_id",
            _("This server serves several jurisdictions: give one of %(ids)s.")
            % {"ids": ", ".join(e.code for e in endpoints)},
        ),
    )


def _key(data: QueryDict, endpoint: Endpoint, *, required: bool) -> ApiKey | None:
    secret = optional(data, "api_key")
    if secret is None:
        if required:
            raise Open311Error(403, bad("api_key", _("An API key is required to post a request.")))
        return None
    key = key_for_secret(secret)
    if key is None or key.endpoint_id != endpoint.pk:
        raise Open311Error(
            403, bad("api_key", _("The API key is invalid, revoked or for another jurisdiction."))
        )
    check_rate(key)
    return key


# --- Discovery and services ---------------------------------------------------------------------------


@open311_view("GET", "HEAD")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    endpoints = Endpoint.objects.filter(is_active=True)
    changed = endpoints.aggregate(at=Max("updated_at"))["at"] or clock.now()
    first = endpoints.order_by("code").first()
    base = request.build_absolute_uri(reverse("open311:root"))
    body: dict[str, Value] = {
        "changeset": w3c_datetime(changed),
        "contact": first.contact if first else "",
        "key_service": first.key_service if first else "",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base.rstrip("/"),
                "changeset": w3c_datetime(changed),
                "type": "test" if settings.DEBUG else "production",
                "formats": list(MIME_TYPES),
            }
        ],
    }
    return render(fmt, "discovery", body)


@open311_view("GET", "HEAD")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.GET
    endpoint = _endpoint(data)
    _key(data, endpoint, required=False)
    body: list[Value] = [
        {
            "service_code": s.code,
            "service_name": s.category.name,
            "description": (s.setting.description if s.setting and s.setting.description else s.path_names),
            "metadata": s.has_attributes,
            "type": s.service_type,
            "keywords": (s.setting.keywords or None) if s.setting else None,
            "group": s.group,
        }
        for s in catalogue.listed_services()
    ]
    return render(fmt, "services", body)


@open311_view("GET", "HEAD")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    data = request.GET
    endpoint = _endpoint(data)
    _key(data, endpoint, required=False)
    service = catalogue.service_for_code(code)
    if service is None:
        raise Open311Error(404, bad("service_code", _("No service has this code.")))
    attributes: list[Value] = []
    for a in catalogue.attributes_of(service.category):
        item: dict[str, Value] = {
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description or None,
            "order": a.order,
            "description": a.description,
        }
        if a.datatype in LIST_DATATYPES:
            item["values"] = [{"key": v.key, "name": v.name} for v in a.values.all()]
        attributes.append(item)
    return render(fmt, "service_definition", {"service_code": service.code, "attributes": attributes})


# --- Requests ----------------------------------------------------------------------------------------


@open311_view("GET", "HEAD", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    data = request.GET
    endpoint = _endpoint(data)
    key = _key(data, endpoint, required=False)
    query = queries.RequestQuery(endpoint=endpoint, api_key=key)
    query.ids = comma_list(data, "service_request_id", most=MAX_IDS)
    query.codes = comma_list(data, "service_code", most=MAX_IDS)
    statuses = [s.lower() for s in comma_list(data, "status", most=2)]
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, bad("status", _("Use open, closed or both (comma separated).")))
    query.statuses = statuses
    if not query.ids:
        query.start, query.end = _date_range(data)
    query.page = integer(data, "page", low=1, high=MAX_PAGE, default=1)
    query.page_size = integer(data, "page_size", low=1, high=queries.PAGE_SIZE, default=queries.PAGE_SIZE)
    return _render_requests(fmt, queries.find_requests(query), extensions=boolean(data, "extensions"))


def _date_range(data: QueryDict) -> tuple[datetime, datetime]:
    """start_date/end_date, at most 90 days apart; the last 90 days when neither is given."""
    start_text, end_text = optional(data, "start_date"), optional(data, "end_date")
    given_start = moment(start_text, "start_date") if start_text else None
    given_end = moment(end_text, "end_date", end_of_day=True) if end_text else None
    if given_start is not None and given_end is not None:
        start, end = given_start, given_end
    elif given_start is not None:
        start, end = given_start, given_start + queries.SPAN
    else:
        end = given_end or clock.now()
        start = end - queries.SPAN
    if end < start:
        raise Open311Error(400, bad("end_date", _("The end lies before the start.")))
    if end - start > queries.SPAN + timedelta(days=1):  # a bare end date counts its whole day
        raise Open311Error(400, bad("end_date", _("The range may not span more than 90 days.")))
    return start, end


@open311_view("GET", "HEAD")
def one_request(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    data = request.GET
    endpoint = _endpoint(data)
    key = _key(data, endpoint, required=False)
    # No number has a NUL, which PostgreSQL refuses in a text parameter (a 500 otherwise).
    found = (
        queries.find_requests(queries.RequestQuery(endpoint=endpoint, api_key=key, ids=[number]))
        if "\x00" not in number
        else []
    )
    if not found:
        raise Open311Error(404, bad("service_request_id", _("No request with this id is published here.")))
    # A one-element list, as the specification shows (clients read element [0]).
    return _render_requests(fmt, found, extensions=boolean(data, "extensions"))


def _render_requests(fmt: str, cases: list[queries.Row], *, extensions: bool) -> HttpResponse:
    expected = queries.expected_datetimes(cases)
    notes = queries.public_notes(cases) if extensions else {}
    body: list[Value] = [
        queries.request_body(case, expected.get(case.pk), notes.get(case.pk, []) if extensions else None)
        for case in cases
    ]
    return render(fmt, "service_requests", body)


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    data = _arguments(request)
    endpoint = _endpoint(data)
    key = _key(data, endpoint, required=True)
    assert key is not None
    submission = read_submission(data, endpoint, key)
    idempotency_key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(idempotency_key) > 64:
        raise Open311Error(400, bad("Idempotency-Key", _("At most 64 characters.")))
    if any(ord(c) < 32 or c == "\x7f" for c in idempotency_key):  # stored in a text column
        raise Open311Error(400, bad("Idempotency-Key", _("Control characters are not allowed.")))
    try:
        record, _created = do_submit_request(submission, idempotency_key=idempotency_key, actor=None)
    except ValidationError as exc:
        raise Open311Error(
            400,
            *(
                bad(ARGUMENT_OF_FIELD.get(name, name), message)
                for name, messages in exc.message_dict.items()
                for message in messages
            ),
        ) from None
    answer: dict[str, Value] = {}
    if submission.service_type == ServiceType.REALTIME:
        answer["service_request_id"] = record.case.number
    elif submission.service_type == ServiceType.BATCH:
        answer["token"] = record.token
    answer["service_notice"] = submission.service_notice or None
    answer["account_id"] = record.account_id or None
    return render(fmt, "service_requests", [answer])


@open311_view("GET", "HEAD")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    data = request.GET
    endpoint = _endpoint(data)
    _key(data, endpoint, required=False)
    record = (
        ServiceRequest.objects.select_related("case")
        .filter(token=token, endpoint=endpoint)
        .only("token", "case__number")
        .first()
        if "\x00" not in token  # as for a request's number
        else None
    )
    if record is None:
        raise Open311Error(404, bad("token", _("No request has this token.")))
    return render(
        fmt, "service_requests", [{"service_request_id": record.case.number, "token": record.token}]
    )


# --- FixMyStreet's extension ----------------------------------------------------------------------------


@open311_view("GET", "HEAD")
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.GET
    endpoint = _endpoint(data)
    key = _key(data, endpoint, required=False)
    start, end = _date_range(data)
    query = queries.UpdateQuery(
        endpoint=endpoint,
        api_key=key,
        start=start,
        end=end,
        page=integer(data, "page", low=1, high=MAX_PAGE, default=1),
        page_size=integer(data, "page_size", low=1, high=queries.PAGE_SIZE, default=queries.PAGE_SIZE),
    )
    return render(fmt, "service_request_updates", list(queries.find_updates(query)))


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything else under /open311/: the specification's 404, in the format the address asks for."""
    fmt = "json" if request.path.endswith(".json") else "xml"
    return render(fmt, "errors", error_body(404, [_("There is no such Open311 resource.")]), status=404)
