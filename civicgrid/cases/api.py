"""JSON API for cases: take in, list, read with the timeline, reveal the resident's phone, and one POST per
action at ``/cases/{number}/actions/{action}`` (the action codes of civicgrid.cases.workflow.Action, the
same codes the detail's ``allowed_actions`` lists).

Every view only parses, authorizes and calls an action (civicgrid.cases.actions). Cases are looked up
inside ``visible_cases(user)`` (a case outside the caller's scope is a 404), and so are the objects a body
refers to (units, jurisdictions, grid cells, the master case), whose absence is a 422 naming the field.
The actions decide the rest: PermissionDenied → 403, TransitionNotAllowed and CaseConflict → 409,
ValidationError → 422 (handlers in civicgrid/api.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import P, Query, Router
from ninja import Status as Answer
from ninja.params import HeaderEx

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import (
    acting_user,
    case_action_allowed,
    visible_cases,
    visible_grid_cells,
)
from civicgrid.cases import actions, clocks
from civicgrid.cases.api_schemas import (
    ERRORS,
    ActionIn,
    AnswerIn,
    AssignDownIn,
    AssignmentIn,
    AssistReplyIn,
    AssistReturnIn,
    CaseCreatedOut,
    CaseCreateIn,
    CaseDetailOut,
    CaseFilters,
    CaseListOut,
    DecideExtensionIn,
    DispatchIn,
    ExtensionIn,
    MergeIn,
    MilestoneIn,
    NoteIn,
    PhoneOut,
    ReasonIn,
    RegisterIn,
    ReopenIn,
    ReplyIn,
    RequiredNoteIn,
    ReturnIn,
    RevealIn,
    RevisitIn,
    SplitIn,
    SuperviseIn,
    VerifyIn,
)
from civicgrid.cases.models import (
    AssignmentRole,
    Case,
    CaseAssignment,
    CaseClock,
    CaseEvent,
    ClockState,
    ExtensionRequest,
    Stage,
    Timing,
)
from civicgrid.cases.performing import category_for, jurisdiction_for, perform, photo_uploads, unit_for
from civicgrid.cases.queries import overdue_q
from civicgrid.cases.workflow import Action, Group, Status, allowed_from, in_group
from civicgrid.lib import clock

router = Router(tags=["cases"])

DETAIL = {200: CaseDetailOut, **ERRORS}


# --- Lookups, always inside what the caller may see ------------------------------------------------------


def _case(request: HttpRequest, number: str) -> tuple[User, Case]:
    """The caller and the case (404 outside their scope)."""
    user = acting_user(request)
    case = get_object_or_404(
        visible_cases(user).select_related("category", "jurisdiction", "lead_unit"), number=number
    )
    return user, case


# --- Answers ----------------------------------------------------------------------------------------------


def _local(at: datetime | None) -> datetime | None:
    return timezone.localtime(at) if at is not None else None


def _ref(obj: Any) -> dict[str, str] | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


def summary(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "title": case.title,
        "kind": case.kind,
        "channel": case.channel,
        "nature": case.nature,
        "category": _ref(case.category),
        "handling_class": case.handling_class,
        "urgency": case.urgency,
        "status": case.status,
        "status_label": str(Status(case.status).label),
        "origin": _ref(case.origin),
        "jurisdiction": _ref(case.jurisdiction),
        "level": case.level,
        "lead_unit": _ref(case.lead_unit),
        "grid_cell": case.grid_cell.code if case.grid_cell else None,
        "received_at": _local(case.received_at),
        "due_at": _local(case.due_at),
        "due_stage": case.due_stage,
        "timing": case.timing,
        "is_supervised": case.is_supervised,
        "version": case.version,
    }


def _event_label(event: CaseEvent) -> str:
    if event.code in Action.values:
        return str(Action(event.code).label)
    if event.code.startswith("clock."):
        # Written by the deadline sweep: clock.warning / clock.overdue / clock.serious, with the stage.
        threshold = event.code.removeprefix("clock.")
        stage = str(event.data.get("stage", ""))
        return _("%(stage)s: %(timing)s") % {
            "stage": Stage(stage).label if stage in Stage.values else stage,
            "timing": Timing(threshold).label if threshold in Timing.values else threshold,
        }
    if event.code == "import":  # civicgrid.open311.importing: a request brought in from another system
        return _("imported")
    return event.code


def _clock(k: CaseClock, now: datetime) -> dict[str, Any]:
    return {
        "stage": k.stage,
        "stage_label": str(Stage(k.stage).label),
        "seq": k.seq,
        "label": k.label,
        "unit": k.unit,
        "limit": k.limit_value,
        "started_at": _local(k.started_at),
        "deadline": _local(k.deadline_at),
        "warn_at": _local(k.warn_at),
        "state": k.state,
        "timing": k.timing,
        # A stopped clock has nothing left to run; its timing says how it ended.
        "remaining": None if k.state == ClockState.STOPPED else round(clocks.remaining(k, now), 2),
    }


def _detail_queryset() -> QuerySet[Case]:
    return Case.objects.select_related(
        "category", "origin", "jurisdiction", "lead_unit", "grid_cell", "duplicate_of", "parent"
    ).prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor", "unit").order_by("seq")),
        Prefetch("clocks", queryset=CaseClock.objects.order_by("started_at", "stage", "seq")),
        Prefetch(
            "assignments",
            queryset=CaseAssignment.objects.select_related("unit").order_by("dispatched_at", "pk"),
        ),
        "hops__from_jurisdiction",
        "hops__to_jurisdiction",
        Prefetch("extensions", queryset=ExtensionRequest.objects.select_related("unit")),
        "orders__by",
        "orders__to_unit",
        "revisits__by",
        "photos",
        Prefetch("children", queryset=Case.objects.only("pk", "parent_id", "number").order_by("number")),
    )


def allowed_actions(user: User, case: Case, assignments: Sequence[CaseAssignment]) -> list[str]:
    """The actions the table allows from the case's status that the permission module lets ``user`` do.
    A co-handling action counts when the user may do it for some current co-handling assignment."""
    assists = [a for a in assignments if a.is_current and a.role == AssignmentRole.ASSIST]
    allowed = []
    for action in allowed_from(case.status):
        if action in (Action.ASSIST_ACCEPT, Action.ASSIST_RETURN, Action.ASSIST_REPLY):
            ok = any(case_action_allowed(user, case, action, assignment=a) for a in assists)
        else:
            ok = case_action_allowed(user, case, action)
        if ok:
            allowed.append(str(action))
    return allowed


def detail(user: User, case_pk: int) -> dict[str, Any]:
    case = _detail_queryset().get(pk=case_pk)
    now = clock.now()
    assignments = list(case.assignments.all())
    data = summary(case)
    data.update(
        {
            "description": case.description,
            "address": case.address,
            "lon": case.lon,
            "lat": case.lat,
            "owner_ruled": case.owner_ruled,
            # An anonymous report keeps the resident's name off every screen, like the phone.
            "reporter_name": "" if case.is_anonymous else case.reporter_name,
            "masked_reporter_phone": case.masked_reporter_phone,
            "is_anonymous": case.is_anonymous,
            "registered_at": _local(case.registered_at),
            "dispatched_at": _local(case.dispatched_at),
            "replied_at": _local(case.replied_at),
            "closed_at": _local(case.closed_at),
            "was_overdue": case.was_overdue,
            "reply": case.reply,
            "is_forced_close": case.is_forced_close,
            "urge_count": case.urge_count,
            "return_count": case.return_count,
            "rework_count": case.rework_count,
            "reopen_count": case.reopen_count,
            "extension_count": case.extension_count,
            "escalation_count": case.escalation_count,
            "duplicate_of": case.duplicate_of.number if case.duplicate_of else None,
            "parent": case.parent.number if case.parent else None,
            "children": [c.number for c in case.children.all()],
            "events": [
                {
                    "seq": e.seq,
                    "code": e.code,
                    "label": _event_label(e),
                    "actor": _name(e.actor),
                    "at": _local(e.at),
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "unit": e.unit.code if e.unit else None,
                    "data": e.data,
                }
                for e in case.events.all()
            ],
            "clocks": [_clock(k, now) for k in case.clocks.all()],
            "assignments": [
                {
                    "id": a.pk,
                    "unit": _ref(a.unit),
                    "role": a.role,
                    "status": a.status,
                    "is_current": a.is_current,
                    "dispatched_at": _local(a.dispatched_at),
                    "accepted_at": _local(a.accepted_at),
                    "replied_at": _local(a.replied_at),
                    "returned_at": _local(a.returned_at),
                    "return_reason": a.return_reason,
                    "reply": a.reply,
                }
                for a in assignments
            ],
            "hops": [
                {
                    "direction": h.direction,
                    "from_level": h.from_level,
                    "to_level": h.to_level,
                    "from_jurisdiction": _ref(h.from_jurisdiction),
                    "to_jurisdiction": _ref(h.to_jurisdiction),
                    "trigger": h.trigger,
                    "reason": h.reason,
                    "at": _local(h.at),
                }
                for h in case.hops.all()
            ],
            "extensions": [
                {
                    "id": x.pk,
                    "unit": _ref(x.unit),
                    "requested_at": _local(x.requested_at),
                    "amount": x.amount,
                    "time_unit": x.time_unit,
                    "reason": x.reason,
                    "status": x.status,
                    "decided_at": _local(x.decided_at),
                    "approved_amount": x.approved_amount,
                    "decision_note": x.decision_note,
                }
                for x in case.extensions.all()
            ],
            "orders": [
                {
                    "id": o.pk,
                    "kind": o.kind,
                    "trigger": o.trigger,
                    "by": _name(o.by),
                    "to_unit": _ref(o.to_unit),
                    "at": _local(o.at),
                    "opinion": o.opinion,
                    "reply_due_at": _local(o.reply_due_at),
                }
                for o in case.orders.all()
            ],
            "revisits": [
                {
                    "id": r.pk,
                    "at": _local(r.at),
                    "by": _name(r.by),
                    "channel": r.channel,
                    "reached": r.reached,
                    "resolution": r.resolution,
                    "satisfaction": r.satisfaction,
                    "comment": r.comment,
                }
                for r in case.revisits.all()
            ],
            "photos": [
                {
                    "id": p.pk,
                    "stage": p.stage,
                    "content_type": p.content_type,
                    "size": p.size,
                    "sha256": p.sha256,
                    "at": _local(p.at),
                }
                for p in case.photos.all()
            ],
            "allowed_actions": allowed_actions(user, case, assignments),
        }
    )
    return data


# --- Take in, list, read ----------------------------------------------------------------------------------


@router.post(
    "/cases",
    response={201: CaseCreatedOut, 200: CaseCreatedOut, **ERRORS},
    summary="Take in a case (受理)",
    operation_id="case_create",
    description=(
        "201 with the new case; 200 with the first case when the idempotency key was used before. The answer "
        "is the case's summary (intake is the busiest call: it reads nothing it just wrote); its timeline, "
        "clocks and records are at GET /cases/{number}."
    ),
)
def create_case(
    request: HttpRequest,
    body: CaseCreateIn,
    idempotency_key: HeaderEx[str | None, P(alias="Idempotency-Key", max_length=80)] = None,
) -> Answer[dict[str, Any]]:
    user = acting_user(request)
    case, created = actions.do_create_case(
        channel=body.channel.value,
        nature=body.nature.value,
        title=body.title,
        description=body.description,
        kind=body.kind.value,
        category=category_for(body.category, "category") if body.category else None,
        handling_class=body.handling_class.value,
        urgency=body.urgency.value,
        address=body.address,
        lon=body.lon,
        lat=body.lat,
        jurisdiction=jurisdiction_for(user, body.jurisdiction, "jurisdiction") if body.jurisdiction else None,
        reporter_name=body.reporter_name,
        reporter_phone=body.reporter_phone,
        is_anonymous=body.is_anonymous,
        photos=photo_uploads(body.photos),
        intake_key=body.intake_key or idempotency_key or None,
        actor=user,
    )
    if not created:  # a retry: the case may have moved on since, so read it back whole
        case = Case.objects.select_related(
            "category", "origin", "jurisdiction", "lead_unit", "grid_cell"
        ).get(pk=case.pk)
    assignments = [] if created else list(case.assignments.all())
    data = summary(case)
    data.update(
        masked_reporter_phone=case.masked_reporter_phone,
        allowed_actions=allowed_actions(user, case, assignments),
        url=f"/api/v1/cases/{case.number}",
    )
    return Answer(201 if created else 200, data)


def _day_start(day: date) -> datetime:
    # Dates are days in Asia/Shanghai (TIME_ZONE), not UTC days.
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def filter_cases(user: User, filters: CaseFilters) -> QuerySet[Case]:
    qs = visible_cases(user)
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    if filters.group is not None:
        qs = qs.filter(status__in=in_group(filters.group))
    if filters.jurisdiction:
        node = jurisdiction_for(user, filters.jurisdiction, "jurisdiction")
        qs = qs.filter(Q(origin_path__startswith=node.path) | Q(level_path__startswith=node.path))
    if filters.unit:
        qs = qs.filter(lead_unit=unit_for(user, filters.unit, "unit"))
    if filters.grid:
        cell = visible_grid_cells(user).filter(code=filters.grid).first()
        if cell is None:
            raise ValidationError({"grid": _("No such grid cell: %(code)s.") % {"code": filters.grid}})
        qs = qs.filter(grid_cell=cell)
    if filters.category:
        category = category_for(filters.category, "category")
        qs = qs.filter(category__path__startswith=category.path)
    if filters.channel is not None:
        qs = qs.filter(channel=filters.channel.value)
    if filters.overdue is not None:
        late = overdue_q(clock.now())
        qs = qs.filter(late) if filters.overdue else qs.exclude(late)
    if filters.received_from:
        qs = qs.filter(received_at__gte=_day_start(filters.received_from))
    if filters.received_to:
        qs = qs.filter(received_at__lt=_day_start(filters.received_to + timedelta(days=1)))
    if filters.closed_from or filters.closed_to:
        qs = qs.filter(status__in=in_group(Group.DONE))
        if filters.closed_from:
            qs = qs.filter(closed_at__gte=_day_start(filters.closed_from))
        if filters.closed_to:
            qs = qs.filter(closed_at__lt=_day_start(filters.closed_to + timedelta(days=1)))
    if filters.nature is not None:
        qs = qs.filter(nature=filters.nature.value)
    if filters.counted:
        qs = qs.filter(pk__in=counted_cases(filters.counted))
    if filters.q:
        qs = qs.filter(Q(number__icontains=filters.q) | Q(title__icontains=filters.q))
    return qs


def counted_cases(counter: str) -> QuerySet[Any]:
    """The ids of the cases the statistics count under a cohort counter (their fact row has it > 0): a
    figure's drill-down lists exactly what the figure counted. The statistics read the cases, so this is
    the one place the case list asks them back (imported here, not at the top, to keep that direction)."""
    from civicgrid.stats.definitions import RECEIVED_COUNTERS
    from civicgrid.stats.models import CaseFact

    if counter not in RECEIVED_COUNTERS:
        raise ValidationError({"counted": _("No such statistics counter: %(code)s.") % {"code": counter}})
    return CaseFact.objects.filter(**{f"{counter}__gt": 0}).values("case_id")


@router.get(
    "/cases",
    response={200: CaseListOut, **ERRORS},
    summary="Cases you can see, filtered and paged (newest first)",
    operation_id="case_list",
)
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    user = acting_user(request)
    qs = filter_cases(user, filters)
    count = qs.count() if filters.count else None
    rows = list(
        qs.select_related("category", "origin", "jurisdiction", "lead_unit", "grid_cell")
        # The list never shows these, and the phone would be decrypted row by row.
        .defer("description", "reply", "reporter_phone")
        .order_by("-received_at", "-pk")[filters.offset : filters.offset + filters.limit + 1]
    )
    more = len(rows) > filters.limit
    return {
        "count": count,
        "items": [summary(c) for c in rows[: filters.limit]],
        "next_offset": filters.offset + filters.limit if more else None,
    }


@router.get(
    "/cases/{number}",
    response=DETAIL,
    summary="A case with its timeline, clocks and records",
    operation_id="case_read",
)
def case_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    user, case = _case(request, number)
    return detail(user, case.pk)


@router.post(
    "/cases/{number}/reveal-phone",
    response={200: PhoneOut, **ERRORS},
    summary="The resident's unmasked phone (each call is logged)",
    operation_id="case_reveal_phone",
)
def reveal_phone(request: HttpRequest, number: str, body: RevealIn) -> dict[str, Any]:
    user, case = _case(request, number)
    return {"reporter_phone": actions.do_reveal_reporter_phone(case, actor=user, purpose=body.purpose)}


# --- One POST per action ----------------------------------------------------------------------------------


def _action_route(action: Action, summary: str) -> Any:
    return router.post(
        f"/cases/{{number}}/actions/{action.value}",
        response=DETAIL,
        summary=summary,
        operation_id=f"case_action_{action.value}",
    )


def _act(request: HttpRequest, number: str, action: Action, body: ActionIn) -> dict[str, Any]:
    user, case = _case(request, number)
    perform(user, case, action, body)
    return detail(user, case.pk)


@_action_route(Action.ANSWER_DIRECTLY, "Answer a consultation directly (直接答复)")
def answer_directly(request: HttpRequest, number: str, body: AnswerIn) -> dict[str, Any]:
    return _act(request, number, Action.ANSWER_DIRECTLY, body)


@_action_route(Action.REQUEST_CONFIRMATION, "Ask for on-site confirmation (核实)")
def request_confirmation(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return _act(request, number, Action.REQUEST_CONFIRMATION, body)


@_action_route(Action.REGISTER, "Register the case (立案)")
def register(request: HttpRequest, number: str, body: RegisterIn) -> dict[str, Any]:
    return _act(request, number, Action.REGISTER, body)


@_action_route(Action.VOID, "Refuse to register (不予立案)")
def void(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _act(request, number, Action.VOID, body)


@_action_route(Action.MERGE, "Merge into another case (并案)")
def merge(request: HttpRequest, number: str, body: MergeIn) -> dict[str, Any]:
    return _act(request, number, Action.MERGE, body)


@_action_route(Action.SPLIT, "Split into several cases (拆分)")
def split(request: HttpRequest, number: str, body: SplitIn) -> dict[str, Any]:
    return _act(request, number, Action.SPLIT, body)


@_action_route(Action.DISPATCH, "Dispatch to a lead unit and co-handling units (派单)")
def dispatch(request: HttpRequest, number: str, body: DispatchIn) -> dict[str, Any]:
    return _act(request, number, Action.DISPATCH, body)


@_action_route(Action.ACCEPT, "Sign for the case as the lead unit (签收)")
def accept(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return _act(request, number, Action.ACCEPT, body)


@_action_route(Action.REQUEST_RETURN, "Ask to return the case (退单)")
def request_return(request: HttpRequest, number: str, body: ReturnIn) -> dict[str, Any]:
    return _act(request, number, Action.REQUEST_RETURN, body)


@_action_route(Action.APPROVE_RETURN, "Approve the return (同意退单)")
def approve_return(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return _act(request, number, Action.APPROVE_RETURN, body)


@_action_route(Action.REJECT_RETURN, "Refuse the return: the unit owns the case (审定)")
def reject_return(request: HttpRequest, number: str, body: RequiredNoteIn) -> dict[str, Any]:
    return _act(request, number, Action.REJECT_RETURN, body)


@_action_route(Action.ASSIGN_DOWN, "Assign to a lower level's desk (下派)")
def assign_down(request: HttpRequest, number: str, body: AssignDownIn) -> dict[str, Any]:
    return _act(request, number, Action.ASSIGN_DOWN, body)


@_action_route(Action.ESCALATE, "Escalate to the level above (上报)")
def escalate(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _act(request, number, Action.ESCALATE, body)


@_action_route(Action.REQUEST_EXTENSION, "Ask for more time (申请延期)")
def request_extension(request: HttpRequest, number: str, body: ExtensionIn) -> dict[str, Any]:
    return _act(request, number, Action.REQUEST_EXTENSION, body)


@_action_route(Action.DECIDE_EXTENSION, "Decide an extension request (延期审批)")
def decide_extension(request: HttpRequest, number: str, body: DecideExtensionIn) -> dict[str, Any]:
    return _act(request, number, Action.DECIDE_EXTENSION, body)


@_action_route(Action.AWAIT_RESIDENT, "Wait for the resident; the clocks stop (待群众补充)")
def await_resident(request: HttpRequest, number: str, body: RequiredNoteIn) -> dict[str, Any]:
    return _act(request, number, Action.AWAIT_RESIDENT, body)


@_action_route(Action.RESIDENT_RESPONDED, "The resident responded; the clocks run again")
def resident_responded(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return _act(request, number, Action.RESIDENT_RESPONDED, body)


@_action_route(Action.SUSPEND, "Suspend the case; the clocks stop (挂起)")
def suspend(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _act(request, number, Action.SUSPEND, body)


@_action_route(Action.RESUME, "Resume a suspended case")
def resume(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return _act(request, number, Action.RESUME, body)


@_action_route(Action.COMPLETE_MILESTONE, "Complete one step of a staged limit (阶段办结)")
def complete_milestone(request: HttpRequest, number: str, body: MilestoneIn) -> dict[str, Any]:
    return _act(request, number, Action.COMPLETE_MILESTONE, body)


@_action_route(Action.ASSIST_ACCEPT, "Sign for the case as a co-handling unit (协办签收)")
def assist_accept(request: HttpRequest, number: str, body: AssignmentIn) -> dict[str, Any]:
    return _act(request, number, Action.ASSIST_ACCEPT, body)


@_action_route(Action.ASSIST_RETURN, "Decline as a co-handling unit (协办退回)")
def assist_return(request: HttpRequest, number: str, body: AssistReturnIn) -> dict[str, Any]:
    return _act(request, number, Action.ASSIST_RETURN, body)


@_action_route(Action.ASSIST_REPLY, "Reply to the lead unit as a co-handling unit (协办回复)")
def assist_reply(request: HttpRequest, number: str, body: AssistReplyIn) -> dict[str, Any]:
    return _act(request, number, Action.ASSIST_REPLY, body)


@_action_route(Action.SUPERVISE, "Open a supervision order (督办)")
def supervise(request: HttpRequest, number: str, body: SuperviseIn) -> dict[str, Any]:
    return _act(request, number, Action.SUPERVISE, body)


@_action_route(Action.URGE, "Urge whoever holds the case (催办)")
def urge(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return _act(request, number, Action.URGE, body)


@_action_route(Action.REPLY, "Reply: the handling is done (办结答复)")
def reply(request: HttpRequest, number: str, body: ReplyIn) -> dict[str, Any]:
    return _act(request, number, Action.REPLY, body)


@_action_route(Action.VERIFY, "Verify the reply; a failure sends it back for rework (核查)")
def verify(request: HttpRequest, number: str, body: VerifyIn) -> dict[str, Any]:
    return _act(request, number, Action.VERIFY, body)


@_action_route(Action.REVISIT, "Record the revisit (回访)")
def revisit(request: HttpRequest, number: str, body: RevisitIn) -> dict[str, Any]:
    return _act(request, number, Action.REVISIT, body)


@_action_route(Action.REOPEN, "Reopen after an unsatisfied revisit (重办)")
def reopen(request: HttpRequest, number: str, body: ReopenIn) -> dict[str, Any]:
    return _act(request, number, Action.REOPEN, body)


@_action_route(Action.FORCE_CLOSE, "Close by force (强制结案)")
def force_close(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _act(request, number, Action.FORCE_CLOSE, body)


@_action_route(Action.WITHDRAW, "Withdraw at the resident's request (撤回)")
def withdraw(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _act(request, number, Action.WITHDRAW, body)


@_action_route(Action.ARCHIVE, "Archive; read-only from now on (归档)")
def archive(request: HttpRequest, number: str, body: ActionIn) -> dict[str, Any]:
    return _act(request, number, Action.ARCHIVE, body)


# Every action of the table has its route (a new action without one fails here, at import).
_ROUTED = {
    op.operation_id
    for view in router.path_operations.values()
    for op in view.operations
    if op.operation_id and op.operation_id.startswith("case_action_")
}
assert {f"case_action_{a.value}" for a in Action if a != Action.CREATE} == _ROUTED, (
    "every case action needs a route"
)
