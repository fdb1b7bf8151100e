"""Reading requests and their updates for GET requests, GET a request and servicerequestupdates.

What is published: cases located in the endpoint's subtree, classified, not a report of wrongdoing (举报:
whistle-blowers are protected), not in a private service — or, whatever those rules say, the requests the
calling key posted itself. Nothing about the resident is ever published (name, phone, email stay inside).

Every list is bounded by the specification's defaults (a 90-day span, 1,000 requests a page) and ordered on
an indexed column (``received_at`` for requests; ``(code, at)`` for updates), so a page costs an index range
scan whatever the table's size; see bench/open311.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case as DbCase
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models import Value as SqlValue

from civicgrid.cases import clocks
from civicgrid.cases.models import Case, CaseClock, CaseEvent, ClockState, Nature, Stage
from civicgrid.cases.workflow import Action, Group, Status, in_group
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib.masking import mask_in_text
from civicgrid.open311.catalogue import category_ids_for_codes, private_category_ids
from civicgrid.open311.formats import Value, w3c_datetime
from civicgrid.open311.models import ApiKey, Endpoint, ServiceRequest
from civicgrid.portal.timeline import WORDING, status_label
from civicgrid.workcalendar.calendar import current_calendar

SPAN = timedelta(days=90)  # the specification's longest date range and default span
PAGE_SIZE = 1000  # the specification's default limit, and the largest page
MAX_DESCRIPTION = 4000  # the specification's limit for description

OPEN = frozenset(in_group(Group.OPEN))
CLOSED_STATUSES = in_group(Group.DONE, Group.DROPPED)

# FixMyStreet's extended statuses for servicerequestupdates (what its Open311 updates fetcher understands);
# `external_status_code` carries our own status besides.
FMS_STATUS: dict[str, str] = {
    Status.RECEIVED: "open",
    Status.CONFIRMING: "investigating",
    Status.REGISTERED: "open",
    Status.DISPATCHED: "in_progress",
    Status.RETURN_REQUESTED: "investigating",
    Status.HANDLING: "in_progress",
    Status.WAITING: "action_scheduled",
    Status.SUSPENDED: "action_scheduled",
    Status.REPLIED: "in_progress",
    Status.RESOLVED: "fixed",
    Status.REVISITED: "fixed",
    Status.ARCHIVED: "closed",
    Status.DIRECT_ANSWERED: "closed",
    Status.VOID: "no_further_action",
    Status.MERGED: "duplicate",
    Status.SPLIT: "internal_referral",
    Status.WITHDRAWN: "closed",
}
assert set(FMS_STATUS) == set(Status), "every status needs an update status"

UPDATE_CODES = sorted(str(code) for code in WORDING)  # the events residents are told about


def open311_status(status: str) -> str:
    return "open" if status in OPEN else "closed"


def published(endpoint: Endpoint, api_key: ApiKey | None, *, prefix: str = "") -> Q:
    """The cases this caller may read through the endpoint (``prefix`` = "case__" from the event table)."""
    own = Q(**{f"{prefix}open311__api_key": api_key}) if api_key is not None else None
    where = Q(**{f"{prefix}origin_path__startswith": endpoint.jurisdiction.path})
    if not endpoint.publish_requests:
        return where & own if own is not None else Q(pk__in=[])
    public = Q(**{f"{prefix}category__isnull": False}) & ~Q(**{f"{prefix}nature": Nature.REPORT})
    private = private_category_ids()
    if private:
        public &= ~Q(**{f"{prefix}category_id__in": private})
    return where & (public | own) if own is not None else where & public


@dataclass
class RequestQuery:
    endpoint: Endpoint
    api_key: ApiKey | None = None
    ids: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] = field(default_factory=list)  # "open" / "closed"
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass(slots=True)
class Row:
    """One published request as the list needs it: read with ``values_list`` (no model instances — at a
    thousand rows a page, building cases, categories and units was most of the answer's time)."""

    pk: int
    number: str
    status: str
    reply: str
    title: str
    description: str
    address: str
    lon: float | None
    lat: float | None
    received_at: datetime
    updated_at: datetime
    channel: str
    nature: str
    handling_class: str
    urgency: str
    category_code: str | None
    category_name: str | None
    category_path: str | None
    agency: str | None
    address_id: str | None
    zipcode: str | None
    media_url: str | None
    attributes: dict[str, Any] | None
    handling_due: datetime | None  # the handling clock's deadline (see _HANDLING_DUE)


_COLUMNS = (
    "pk",
    "number",
    "status",
    "reply",
    "title",
    "description",
    "address",
    "lon",
    "lat",
    "received_at",
    "updated_at",
    "channel",
    "nature",
    "handling_class",
    "urgency",
    "category__code",
    "category__name",
    "category__path",
    "lead_unit__name",
    "open311__address_id",
    "open311__zipcode",
    "open311__media_url",
    "open311__attributes",
    "handling_due",
)


def find_requests(query: RequestQuery) -> list[Row]:
    cases: QuerySet[Case] = Case.objects.filter(published(query.endpoint, query.api_key))
    if query.ids:  # the specification: a list of ids overrides every other argument
        cases = cases.filter(number__in=query.ids)
    else:
        if query.codes:
            cases = cases.filter(category_id__in=category_ids_for_codes(query.codes))
        if query.start is not None:
            cases = cases.filter(received_at__gte=query.start)
        if query.end is not None:
            cases = cases.filter(received_at__lte=query.end)
        if set(query.statuses) == {"open"}:
            cases = cases.filter(status__in=sorted(OPEN))
        elif set(query.statuses) == {"closed"}:
            cases = cases.filter(status__in=CLOSED_STATUSES)
    ordered = cases.order_by("-received_at", "-id")
    offset = (query.page - 1) * query.page_size
    if offset:
        # A later page: the page's keys first, from the case table alone, then only those rows joined —
        # otherwise PostgreSQL joins every skipped row too (page 1,000 of 100: 0.45 s → 0.07 s).
        keys = list(ordered.values_list("pk", flat=True)[offset : offset + query.page_size])
        ordered = Case.objects.filter(pk__in=keys).order_by("-received_at", "-id")
        rows = ordered.annotate(handling_due=_HANDLING_DUE).values_list(*_COLUMNS)
    else:
        rows = ordered.annotate(handling_due=_HANDLING_DUE).values_list(*_COLUMNS)[: query.page_size]
    return [Row(*values) for values in rows]


# The handling clock's deadline, read with the row (one index probe per row in the same statement, rather
# than a second query with the page's thousand keys): the running clock that ends last, else the stopped
# one that ended last (staged limits have several clocks; a reworked case has old stopped ones).
_HANDLING_DUE = Subquery(
    CaseClock.objects.filter(case_id=OuterRef("pk"), stage=Stage.HANDLE)
    .order_by(
        DbCase(
            When(state=ClockState.STOPPED, then=SqlValue(1)), default=SqlValue(0), output_field=IntegerField()
        ),
        "-deadline_at",
    )
    .values("deadline_at")[:1]
)


def expected_datetimes(rows: list[Row]) -> dict[int, datetime]:
    """expected_datetime per request: the handling clock's deadline (the last stage of staged limits; the
    running one when there is one); for an open case not yet dispatched, the handling limit counted from
    when it was received (what the resident portal promises too)."""
    found = {row.pk: row.handling_due for row in rows if row.handling_due is not None}
    cal = current_calendar()
    for row in rows:
        if row.handling_due is None and row.status in OPEN:
            planned = clocks.planned_deadline(
                Stage.HANDLE,
                category_codes=[c for c in (row.category_path or "").split("/") if c],
                nature=row.nature,
                handling_class=row.handling_class,
                urgency=row.urgency,
                at=row.received_at,
                cal=cal,
            )
            if planned is not None:
                found[row.pk] = planned
    return found


def request_body(row: Row, expected: datetime | None, notes: list[Value] | None = None) -> dict[str, Value]:
    body: dict[str, Value] = {
        "service_request_id": row.number,
        "status": "open" if row.status in OPEN else "closed",
        "status_notes": mask_in_text(row.reply) or None,
        "service_name": row.category_name,
        "service_code": row.category_code or "",
        # Residents write their phone or ID number into the text: published masked, like on any screen.
        "description": mask_in_text(row.description[:MAX_DESCRIPTION]) or None,
        "agency_responsible": row.agency,
        "service_notice": None,
        "requested_datetime": w3c_datetime(row.received_at),
        "updated_datetime": w3c_datetime(row.updated_at),
        "expected_datetime": w3c_datetime(expected),
        "address": row.address or None,
        "address_id": row.address_id or None,
        "zipcode": row.zipcode or None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": row.media_url or None,
    }
    if notes is not None:  # extensions=true
        answers = row.attributes or {}
        body["attributes"] = [
            {"code": code, "value": ",".join(v) if isinstance(v, list) else str(v)}
            for code, v in answers.items()
        ]
        body["extended_attributes"] = {
            "title": mask_in_text(row.title),
            "channel": row.channel,
            "status_code": row.status,
            "status_label": status_label(row.status),
            "group": _group_name(row.category_path),
        }
        body["notes"] = notes
    return body


_GROUP_NAMES: dict[str, str] = {}


def _group_name(path: str | None) -> str | None:
    if not path:
        return None
    from civicgrid.cases.models import Category

    top = path.split("/")[0]
    if top not in _GROUP_NAMES:
        _GROUP_NAMES[top] = Category.objects.filter(code=top).values_list("name", flat=True).first() or ""
    return _GROUP_NAMES[top] or None


def public_notes(cases: list[Row]) -> dict[int, list[Value]]:
    """The public history of each case (extensions=true): what the resident's tracking page says."""
    events = (
        CaseEvent.objects.filter(case_id__in=[c.pk for c in cases], code__in=UPDATE_CODES)
        .select_related("unit")
        .only("case_id", "seq", "code", "at", "data", "unit__name")
        .order_by("case_id", "seq")
    )
    places = _places(events)
    notes: dict[int, list[Value]] = defaultdict(list)
    for event in events:
        text = update_text(event, places)
        if text:
            notes[event.case_id].append(
                {"datetime": w3c_datetime(event.at), "description": text, "type": event.code}
            )
    return notes


def _places(events: QuerySet[CaseEvent] | list[CaseEvent]) -> dict[str, str]:
    codes = {
        str(e.data.get("to", ""))
        for e in events
        if e.code in (Action.ESCALATE, Action.ASSIGN_DOWN) and e.data.get("to")
    }
    return dict(Jurisdiction.objects.filter(code__in=sorted(codes)).values_list("code", "name"))


def update_text(event: CaseEvent, places: dict[str, str]) -> str | None:
    """The update in plain words; a reply is the reply itself (what the resident is told)."""
    if event.code == Action.REPLY and event.data.get("reply"):
        return mask_in_text(str(event.data["reply"])[:MAX_DESCRIPTION])
    wording = WORDING.get(event.code)
    return wording(event, places) if wording else None


@dataclass
class UpdateQuery:
    endpoint: Endpoint
    api_key: ApiKey | None
    start: datetime
    end: datetime
    page: int = 1
    page_size: int = PAGE_SIZE


def find_updates(query: UpdateQuery) -> list[dict[str, Value]]:
    """Status changes and replies between start and end, oldest first (subscribers poll forward)."""
    offset = (query.page - 1) * query.page_size
    events = list(
        CaseEvent.objects.filter(code__in=UPDATE_CODES, at__gte=query.start, at__lte=query.end)
        .filter(published(query.endpoint, query.api_key, prefix="case__"))
        .select_related("case", "unit")
        .only("id", "code", "at", "data", "to_status", "unit__name", "case__number")
        .order_by("at", "id")[offset : offset + query.page_size]
    )
    places = _places(events)
    updates: list[dict[str, Value]] = []
    for event in events:
        text = update_text(event, places)
        if text is None:  # e.g. a refused extension: nothing the resident is told about
            continue
        updates.append(
            {
                "update_id": str(event.pk),
                "service_request_id": event.case.number,
                "status": FMS_STATUS.get(event.to_status, open311_status(event.to_status)),
                "updated_datetime": w3c_datetime(event.at),
                "description": text,
                "media_url": None,
                "external_status_code": event.to_status,
            }
        )
    return updates


@dataclass(frozen=True)
class StaffSummary:
    """What the staff case page shows of a request's Open311 side (never the reporter's email)."""

    client: str
    source: str
    external_id: str
    answers: list[tuple[str, str]]  # (question, answer) in the definition's order
    media_url: str


def staff_summary(case: Case) -> StaffSummary | None:
    from civicgrid.open311.models import ServiceAttribute

    record = ServiceRequest.objects.select_related("api_key").filter(case=case).first()
    if record is None:
        return None
    questions = list(
        ServiceAttribute.objects.filter(category_id=case.category_id or 0)
        .prefetch_related("values")
        .order_by("order", "code")
    )
    given = dict(record.attributes)
    answers: list[tuple[str, str]] = []
    for question in questions:  # in the definition's order; answers to since-removed questions last
        if question.code in given:
            names = {v.key: v.name for v in question.values.all()}
            value = given.pop(question.code)
            values = value if isinstance(value, list) else [value]
            answers.append((question.description, "、".join(names.get(str(v), str(v)) for v in values)))
    answers += [
        (code, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for code, v in given.items()
    ]
    return StaffSummary(
        client=record.api_key.name if record.api_key else "",
        source=record.source,
        external_id=record.external_id,
        answers=answers,
        media_url=record.media_url,
    )
