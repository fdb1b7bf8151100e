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

from django.db.models import Q, QuerySet

from civicgrid.cases import clocks
from civicgrid.cases.models import Case, CaseClock, CaseEvent, ClockState, Nature, Stage
from civicgrid.cases.workflow import Action, Group, Status, in_group
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.open311.catalogue import category_ids_for_codes, private_category_ids
from civicgrid.open311.formats import Value, w3c_datetime
from civicgrid.open311.models import ApiKey, Endpoint, ServiceRequest
from civicgrid.portal.timeline import WORDING, status_label

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


_FIELDS = (
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
    "origin_path",
    "category__code",
    "category__name",
    "category__path",
    "lead_unit__name",
    "open311__address_id",
    "open311__zipcode",
    "open311__media_url",
    "open311__attributes",
)


def find_requests(query: RequestQuery) -> list[Case]:
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
    offset = (query.page - 1) * query.page_size
    return list(
        cases.select_related("category", "lead_unit", "open311")
        .only(*_FIELDS)
        .order_by("-received_at", "-id")[offset : offset + query.page_size]
    )


def expected_datetimes(cases: list[Case]) -> dict[int, datetime]:
    """expected_datetime per case: the handling clock's deadline (the last stage of staged limits; the
    running one when there is one); for an open case not yet dispatched, the handling limit counted from
    when it was received (what the resident portal promises too)."""
    running: dict[int, datetime] = {}
    stopped: dict[int, datetime] = {}
    rows = CaseClock.objects.filter(case_id__in=[c.pk for c in cases], stage=Stage.HANDLE).values_list(
        "case_id", "state", "deadline_at"
    )
    for case_id, state, deadline in rows:
        target = stopped if state == ClockState.STOPPED else running
        if case_id not in target or deadline > target[case_id]:
            target[case_id] = deadline
    found = {**stopped, **running}
    for case in cases:
        if case.pk not in found and case.status in OPEN:
            planned = clocks.plan_clocks(case, Stage.HANDLE, at=case.received_at)
            if planned:
                found[case.pk] = max(c.deadline_at for c in planned)
    return found


def _record(case: Case) -> ServiceRequest | None:
    try:
        return case.open311  # the reverse one-to-one: raises when there is none
    except ServiceRequest.DoesNotExist:
        return None


def request_body(case: Case, expected: datetime | None, notes: list[Value] | None = None) -> dict[str, Value]:
    record = _record(case)
    body: dict[str, Value] = {
        "service_request_id": case.number,
        "status": open311_status(case.status),
        "status_notes": case.reply or None,
        "service_name": case.category.name if case.category else None,
        "service_code": case.category.code if case.category else "",
        "description": case.description[:MAX_DESCRIPTION] or None,
        "agency_responsible": case.lead_unit.name if case.lead_unit else None,
        "service_notice": None,
        "requested_datetime": w3c_datetime(case.received_at),
        "updated_datetime": w3c_datetime(case.updated_at),
        "expected_datetime": w3c_datetime(expected),
        "address": case.address or None,
        "address_id": (record.address_id or None) if record else None,
        "zipcode": (record.zipcode or None) if record else None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": (record.media_url or None) if record else None,
    }
    if notes is not None:  # extensions=true
        answers = record.attributes if record else {}
        body["attributes"] = [
            {"code": code, "value": ",".join(v) if isinstance(v, list) else str(v)}
            for code, v in answers.items()
        ]
        body["extended_attributes"] = {
            "title": case.title,
            "channel": case.channel,
            "status_code": case.status,
            "status_label": status_label(case.status),
            "group": _group_name(case),
        }
        body["notes"] = notes
    return body


_GROUP_NAMES: dict[str, str] = {}


def _group_name(case: Case) -> str | None:
    if case.category is None:
        return None
    from civicgrid.cases.models import Category

    top = case.category.path.split("/")[0]
    if top not in _GROUP_NAMES:
        _GROUP_NAMES[top] = Category.objects.filter(code=top).values_list("name", flat=True).first() or ""
    return _GROUP_NAMES[top] or None


def public_notes(cases: list[Case]) -> dict[int, list[Value]]:
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
        return str(event.data["reply"])[:MAX_DESCRIPTION]
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
