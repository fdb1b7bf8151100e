"""Request and response schemas of the cases API (civicgrid/cases/api.py), and the error shape every API
router answers with (registered on the NinjaAPI in civicgrid/api.py).

Choices are the model's TextChoices, so the OpenAPI document lists the allowed values. Objects are
referred to by their public codes (category, unit and jurisdiction codes, case numbers), never by database
ids — except for a case's own side records (assignments, extension requests), which appear with their id
in the case detail.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from civicgrid.cases.models import (
    Channel,
    HandlingClass,
    Kind,
    Nature,
    Resolution,
    RevisitChannel,
    Satisfaction,
    TimeUnit,
    Urgency,
)
from civicgrid.cases.workflow import Group, Status

# --- Errors -----------------------------------------------------------------------------------------------


class ErrorItem(Schema):
    field: str | None = Field(
        description="The request field at fault (dotted path); null for the whole request."
    )
    reason: str = Field(description="What is wrong, in the user's language.")


class ErrorOut(Schema):
    """The body of every error answer."""

    errors: list[ErrorItem]
    code: str = Field(
        description="invalid, not_found, forbidden, conflict, transition_not_allowed, not_authenticated, "
        "invalid_token, csrf_failed, bad_request, too_large"
    )


ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- Input ------------------------------------------------------------------------------------------------


class PhotoIn(Schema):
    name: str = Field(max_length=200, description="The file name, used in error messages.")
    content_base64: str = Field(
        description="The JPEG, PNG or WebP file, base64-encoded (a data: URL is fine)."
    )


class CaseCreateIn(Schema):
    channel: Channel
    nature: Nature
    title: str
    description: str
    kind: Kind = Kind.APPEAL
    category: str | None = Field(None, description="Category code.")
    handling_class: HandlingClass = HandlingClass.PROMISED
    urgency: Urgency = Urgency.NORMAL
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    jurisdiction: str | None = Field(
        None,
        description="Code of the community or street, when there is no point (or it lies outside every grid).",
    )
    reporter_name: str = ""
    reporter_phone: str = ""
    is_anonymous: bool = False
    photos: list[PhotoIn] = []
    intake_key: str | None = Field(
        None,
        max_length=80,
        description="Idempotency key (or the Idempotency-Key header): a retry returns the first case, with 200.",
    )


class CaseFilters(Schema):
    status: list[Status] = Field([], description="Repeatable.")
    group: Group | None = Field(None, description="open, done or dropped.")
    jurisdiction: str | None = Field(None, description="Code: cases located in or owned by that subtree.")
    unit: str | None = Field(None, description="Code of the current lead unit.")
    grid: str | None = Field(None, description="Grid cell code.")
    category: str | None = Field(None, description="Category code; includes its subcategories.")
    channel: Channel | None = None
    overdue: bool | None = Field(None, description="true: open cases past a deadline; false: all others.")
    received_from: date | None = Field(None, description="First day (Asia/Shanghai), inclusive.")
    received_to: date | None = Field(None, description="Last day (Asia/Shanghai), inclusive.")
    closed_from: date | None = Field(None, description="Done cases closed from this day (Asia/Shanghai).")
    closed_to: date | None = Field(None, description="Done cases closed up to this day, inclusive.")
    nature: Nature | None = None
    counted: str | None = Field(
        None,
        max_length=32,
        description="A statistics counter (docs/statistics.md), e.g. closed_on_time: the cases the statistics "
        "count under it — the drill-down of a figure.",
    )
    q: str | None = Field(None, max_length=100, description="Part of the case number or the title.")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)
    count: bool = Field(True, description="false skips counting the matches (count is then null).")


class ActionIn(Schema):
    """Every action body: ``version`` is the case version the caller read; when given, the action refuses
    (409 conflict) if the case has changed since."""

    version: int | None = Field(None, ge=0, description="The case version you read; a stale one is a 409.")


class NoteIn(ActionIn):
    note: str = ""


class RequiredNoteIn(ActionIn):
    note: str


class ReasonIn(ActionIn):
    reason: str


class AnswerIn(ActionIn):
    answer: str


class RegisterIn(ActionIn):
    category: str = Field(description="Category code.")
    handling_class: HandlingClass | None = None
    urgency: Urgency | None = None
    nature: Nature | None = None
    title: str | None = None
    note: str = ""


class MergeIn(ActionIn):
    master: str = Field(description="Number of the case this one duplicates.")
    reason: str = ""


class SplitPartIn(Schema):
    title: str
    description: str
    category: str = Field(description="Category code.")
    handling_class: HandlingClass | None = None
    urgency: Urgency | None = None


class SplitIn(ActionIn):
    parts: list[SplitPartIn]


class DispatchIn(ActionIn):
    lead_unit: str = Field(description="Unit code of the lead unit (主办).")
    assist_units: list[str] = Field([], description="Unit codes of co-handling units (协办).")
    note: str = ""


class ReturnIn(ActionIn):
    reason: str
    basis: str = Field("", description="The 权责清单 clause the return relies on.")


class AssignDownIn(ActionIn):
    to: str = Field(description="Code of the lower jurisdiction whose desk takes the case.")
    reason: str = ""


class ExtensionIn(ActionIn):
    amount: Decimal
    reason: str
    time_unit: TimeUnit | None = Field(None, description="Default: the unit of the handling limit.")


class DecideExtensionIn(ActionIn):
    request: int = Field(description="Id of the extension request (see the case's extensions).")
    approve: bool
    amount: Decimal | None = Field(None, description="Approve less than asked; default: the amount asked.")
    note: str = ""


class MilestoneIn(ActionIn):
    seq: int = Field(description="The step of the staged handling limit that is done.")
    note: str = ""


class AssignmentIn(ActionIn):
    assignment: int = Field(description="Id of the co-handling assignment (see the case's assignments).")


class AssistReturnIn(AssignmentIn):
    reason: str


class AssistReplyIn(AssignmentIn):
    reply: str


class SuperviseIn(ActionIn):
    opinion: str
    reply_due_at: datetime | None = None


class ReplyIn(ActionIn):
    reply: str
    photos: list[PhotoIn] = []


class VerifyIn(ActionIn):
    passed: bool
    note: str = ""
    photos: list[PhotoIn] = []


class RevisitIn(ActionIn):
    channel: RevisitChannel
    satisfaction: Satisfaction
    resolution: Resolution | None = None
    reached: bool = True
    comment: str = ""


class ReopenIn(ActionIn):
    reason: str
    to_dispatch: bool = Field(
        False, description="true: back to the dispatching desk instead of the same unit."
    )


class RevealIn(Schema):
    purpose: str = Field("", max_length=200, description="Why the phone is needed (kept in the access log).")


# --- Output -----------------------------------------------------------------------------------------------


class Ref(Schema):
    code: str
    name: str


class EventOut(Schema):
    seq: int
    code: str
    label: str
    actor: str | None
    at: datetime
    from_status: str
    to_status: str
    unit: str | None
    data: dict[str, Any]


class ClockOut(Schema):
    stage: str
    stage_label: str
    seq: int
    label: str
    unit: str
    limit: Decimal
    started_at: datetime
    deadline: datetime
    warn_at: datetime
    state: str
    timing: str
    remaining: float | None = Field(
        description="Left until the deadline, in the clock's unit (negative: late)."
    )


class AssignmentOut(Schema):
    id: int
    unit: Ref
    role: str
    status: str
    is_current: bool
    dispatched_at: datetime
    accepted_at: datetime | None
    replied_at: datetime | None
    returned_at: datetime | None
    return_reason: str
    reply: str


class HopOut(Schema):
    direction: int
    from_level: str
    to_level: str
    from_jurisdiction: Ref
    to_jurisdiction: Ref
    trigger: str
    reason: str
    at: datetime


class ExtensionOut(Schema):
    id: int
    unit: Ref
    requested_at: datetime
    amount: Decimal
    time_unit: str
    reason: str
    status: str
    decided_at: datetime | None
    approved_amount: Decimal | None
    decision_note: str


class OrderOut(Schema):
    id: int
    kind: str
    trigger: str
    by: str | None
    to_unit: Ref | None
    at: datetime
    opinion: str
    reply_due_at: datetime | None


class RevisitOut(Schema):
    id: int
    at: datetime
    by: str | None
    channel: str
    reached: bool
    resolution: str
    satisfaction: str
    comment: str


class PhotoOut(Schema):
    id: int
    stage: str
    content_type: str
    size: int
    sha256: str
    at: datetime


class CaseSummaryOut(Schema):
    number: str
    title: str
    kind: str
    channel: str
    nature: str
    category: Ref | None
    handling_class: str
    urgency: str
    status: str
    status_label: str
    origin: Ref = Field(description="Where it happened (community or street).")
    jurisdiction: Ref = Field(description="The level whose desk owns the case now.")
    level: str
    lead_unit: Ref | None
    grid_cell: str | None
    received_at: datetime
    due_at: datetime | None
    due_stage: str
    timing: str
    is_supervised: bool
    version: int


class CaseCreatedOut(CaseSummaryOut):
    """What intake answers: the case as taken in. Its timeline and clocks are at GET /cases/{number}."""

    masked_reporter_phone: str
    allowed_actions: list[str]
    url: str


class CaseDetailOut(CaseSummaryOut):
    description: str
    address: str
    lon: float | None
    lat: float | None
    owner_ruled: bool
    reporter_name: str
    masked_reporter_phone: str
    is_anonymous: bool
    registered_at: datetime | None
    dispatched_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    was_overdue: bool
    reply: str
    is_forced_close: bool
    urge_count: int
    return_count: int
    rework_count: int
    reopen_count: int
    extension_count: int
    escalation_count: int
    duplicate_of: str | None
    parent: str | None
    children: list[str]
    events: list[EventOut]
    clocks: list[ClockOut]
    assignments: list[AssignmentOut]
    hops: list[HopOut]
    extensions: list[ExtensionOut]
    orders: list[OrderOut]
    revisits: list[RevisitOut]
    photos: list[PhotoOut]
    allowed_actions: list[str] = Field(
        description="The actions you may perform now; each is POST /cases/{number}/actions/{action}."
    )


class CaseListOut(Schema):
    count: int | None
    items: list[CaseSummaryOut]
    next_offset: int | None


class PhoneOut(Schema):
    reporter_phone: str
