"""One door to the case actions for the JSON API and the web pages: the body of each action (a schema of
civicgrid.cases.api_schemas) and how it becomes a call of the action function.

Both doors look the case up in ``visible_cases(user)`` and then call :func:`perform`, so a person can do in
the browser exactly what the API lets them do, with the same validation and the same messages. Objects a
body names (units, jurisdictions, categories, the master case, extension requests, co-handling assignments)
are looked up inside what the user may see; an unknown or out-of-scope one is a ValidationError at that
field, never a silent success.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_cases, visible_jurisdictions, visible_units
from civicgrid.cases import actions
from civicgrid.cases.api_schemas import (
    ActionIn,
    AnswerIn,
    AssignDownIn,
    AssignmentIn,
    AssistReplyIn,
    AssistReturnIn,
    DecideExtensionIn,
    DispatchIn,
    ExtensionIn,
    MergeIn,
    MilestoneIn,
    NoteIn,
    PhotoIn,
    ReasonIn,
    RegisterIn,
    ReopenIn,
    ReplyIn,
    RequiredNoteIn,
    ReturnIn,
    RevisitIn,
    SplitIn,
    SuperviseIn,
    VerifyIn,
)
from civicgrid.cases.models import Case, CaseAssignment, Category, ExtensionRequest
from civicgrid.cases.workflow import Action
from civicgrid.jurisdictions.models import Jurisdiction, Unit

# --- Lookups, always inside what the caller may see ------------------------------------------------------


def unit_for(user: User, code: str, field: str) -> Unit:
    unit = visible_units(user).select_related("jurisdiction").filter(code=code).first()
    if unit is None:
        raise ValidationError({field: _("No such unit: %(code)s.") % {"code": code}})
    return unit


def jurisdiction_for(user: User, code: str, field: str) -> Jurisdiction:
    node = visible_jurisdictions(user).filter(code=code).first()
    if node is None:
        raise ValidationError({field: _("No such jurisdiction: %(code)s.") % {"code": code}})
    return node


def category_for(code: str, field: str) -> Category:
    # The catalogue is the same for everyone (edited by the platform operators), so it is not scoped.
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise ValidationError({field: _("No such category: %(code)s.") % {"code": code}})
    return category


def photo_uploads(items: Sequence[PhotoIn]) -> tuple[actions.PhotoUpload, ...]:
    uploads = []
    for i, photo in enumerate(items):
        data = photo.content_base64
        if data.startswith("data:") and "," in data:
            data = data.split(",", 1)[1]
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError({f"photos.{i}.content_base64": _("This is not valid base64.")}) from None
        uploads.append(actions.PhotoUpload(name=photo.name or f"photo-{i + 1}", content=content))
    return tuple(uploads)


def _assignment(case: Case, assignment_id: int) -> CaseAssignment:
    found = CaseAssignment.objects.filter(case=case, pk=assignment_id).first()
    if found is None:
        raise ValidationError({"assignment": _("This is not a current co-handling assignment of the case.")})
    return found


def _extension(case: Case, request_id: int) -> ExtensionRequest:
    found = ExtensionRequest.objects.filter(case=case, pk=request_id).first()
    if found is None:
        raise ValidationError({"request": _("No such extension request on this case.")})
    return found


# --- Each action: its body and its call ------------------------------------------------------------------

Runner = Callable[[User, Case, Any], object]


@dataclass(frozen=True)
class ActionSpec:
    body: type[ActionIn]
    run: Runner


def _register(user: User, case: Case, body: RegisterIn) -> object:
    return actions.do_register(
        case,
        category=category_for(body.category, "category"),
        handling_class=body.handling_class.value if body.handling_class else None,
        urgency=body.urgency.value if body.urgency else None,
        nature=body.nature.value if body.nature else None,
        title=body.title,
        note=body.note,
        actor=user,
    )


def _merge(user: User, case: Case, body: MergeIn) -> object:
    master = visible_cases(user).filter(number=body.master).first()
    if master is None:
        raise ValidationError({"master": _("No such case.")})
    return actions.do_merge(case, master=master, reason=body.reason, actor=user)


def _split(user: User, case: Case, body: SplitIn) -> object:
    parts = [
        {
            "title": part.title,
            "description": part.description,
            "category": category_for(part.category, f"parts.{i}.category"),
            "handling_class": part.handling_class.value if part.handling_class else None,
            "urgency": part.urgency.value if part.urgency else None,
        }
        for i, part in enumerate(body.parts)
    ]
    return actions.do_split(case, parts=parts, actor=user)


def _dispatch(user: User, case: Case, body: DispatchIn) -> object:
    lead = unit_for(user, body.lead_unit, "lead_unit")
    assists = [unit_for(user, code, "assist_units") for code in body.assist_units]
    return actions.do_dispatch(case, lead=lead, assists=assists, note=body.note, actor=user)


def _request_extension(user: User, case: Case, body: ExtensionIn) -> object:
    return actions.do_request_extension(
        case,
        amount=body.amount,
        reason=body.reason,
        time_unit=body.time_unit.value if body.time_unit else None,
        actor=user,
    )


def _decide_extension(user: User, case: Case, body: DecideExtensionIn) -> object:
    return actions.do_decide_extension(
        case,
        request=_extension(case, body.request),
        approve=body.approve,
        amount=body.amount,
        note=body.note,
        actor=user,
    )


def _revisit(user: User, case: Case, body: RevisitIn) -> object:
    return actions.do_revisit(
        case,
        channel=body.channel.value,
        satisfaction=body.satisfaction.value,
        resolution=body.resolution.value if body.resolution else "",
        reached=body.reached,
        comment=body.comment,
        actor=user,
    )


SPECS: dict[Action, ActionSpec] = {
    Action.ANSWER_DIRECTLY: ActionSpec(
        AnswerIn, lambda u, c, b: actions.do_answer_directly(c, answer=b.answer, actor=u)
    ),
    Action.REQUEST_CONFIRMATION: ActionSpec(
        NoteIn, lambda u, c, b: actions.do_request_confirmation(c, note=b.note, actor=u)
    ),
    Action.REGISTER: ActionSpec(RegisterIn, _register),
    Action.VOID: ActionSpec(ReasonIn, lambda u, c, b: actions.do_void(c, reason=b.reason, actor=u)),
    Action.MERGE: ActionSpec(MergeIn, _merge),
    Action.SPLIT: ActionSpec(SplitIn, _split),
    Action.DISPATCH: ActionSpec(DispatchIn, _dispatch),
    Action.ACCEPT: ActionSpec(NoteIn, lambda u, c, b: actions.do_accept(c, note=b.note, actor=u)),
    Action.REQUEST_RETURN: ActionSpec(
        ReturnIn, lambda u, c, b: actions.do_request_return(c, reason=b.reason, basis=b.basis, actor=u)
    ),
    Action.APPROVE_RETURN: ActionSpec(
        NoteIn, lambda u, c, b: actions.do_approve_return(c, note=b.note, actor=u)
    ),
    Action.REJECT_RETURN: ActionSpec(
        RequiredNoteIn, lambda u, c, b: actions.do_reject_return(c, note=b.note, actor=u)
    ),
    Action.ASSIGN_DOWN: ActionSpec(
        AssignDownIn,
        lambda u, c, b: actions.do_assign_down(
            c, to=jurisdiction_for(u, b.to, "to"), reason=b.reason, actor=u
        ),
    ),
    Action.ESCALATE: ActionSpec(ReasonIn, lambda u, c, b: actions.do_escalate(c, reason=b.reason, actor=u)),
    Action.REQUEST_EXTENSION: ActionSpec(ExtensionIn, _request_extension),
    Action.DECIDE_EXTENSION: ActionSpec(DecideExtensionIn, _decide_extension),
    Action.AWAIT_RESIDENT: ActionSpec(
        RequiredNoteIn, lambda u, c, b: actions.do_await_resident(c, note=b.note, actor=u)
    ),
    Action.RESIDENT_RESPONDED: ActionSpec(
        NoteIn, lambda u, c, b: actions.do_resident_responded(c, note=b.note, actor=u)
    ),
    Action.SUSPEND: ActionSpec(ReasonIn, lambda u, c, b: actions.do_suspend(c, reason=b.reason, actor=u)),
    Action.RESUME: ActionSpec(NoteIn, lambda u, c, b: actions.do_resume(c, note=b.note, actor=u)),
    Action.COMPLETE_MILESTONE: ActionSpec(
        MilestoneIn, lambda u, c, b: actions.do_complete_milestone(c, seq=b.seq, note=b.note, actor=u)
    ),
    Action.ASSIST_ACCEPT: ActionSpec(
        AssignmentIn,
        lambda u, c, b: actions.do_assist_accept(c, assignment=_assignment(c, b.assignment), actor=u),
    ),
    Action.ASSIST_RETURN: ActionSpec(
        AssistReturnIn,
        lambda u, c, b: actions.do_assist_return(
            c, assignment=_assignment(c, b.assignment), reason=b.reason, actor=u
        ),
    ),
    Action.ASSIST_REPLY: ActionSpec(
        AssistReplyIn,
        lambda u, c, b: actions.do_assist_reply(
            c, assignment=_assignment(c, b.assignment), reply=b.reply, actor=u
        ),
    ),
    Action.SUPERVISE: ActionSpec(
        SuperviseIn,
        lambda u, c, b: actions.do_supervise(c, opinion=b.opinion, reply_due_at=b.reply_due_at, actor=u),
    ),
    Action.URGE: ActionSpec(NoteIn, lambda u, c, b: actions.do_urge(c, note=b.note, actor=u)),
    Action.REPLY: ActionSpec(
        ReplyIn,
        lambda u, c, b: actions.do_reply(c, reply=b.reply, photos=photo_uploads(b.photos), actor=u),
    ),
    Action.VERIFY: ActionSpec(
        VerifyIn,
        lambda u, c, b: actions.do_verify(
            c, passed=b.passed, note=b.note, photos=photo_uploads(b.photos), actor=u
        ),
    ),
    Action.REVISIT: ActionSpec(RevisitIn, _revisit),
    Action.REOPEN: ActionSpec(
        ReopenIn, lambda u, c, b: actions.do_reopen(c, reason=b.reason, to_dispatch=b.to_dispatch, actor=u)
    ),
    Action.FORCE_CLOSE: ActionSpec(
        ReasonIn, lambda u, c, b: actions.do_force_close(c, reason=b.reason, actor=u)
    ),
    Action.WITHDRAW: ActionSpec(ReasonIn, lambda u, c, b: actions.do_withdraw(c, reason=b.reason, actor=u)),
    Action.ARCHIVE: ActionSpec(ActionIn, lambda u, c, b: actions.do_archive(c, actor=u)),
}
assert set(SPECS) == set(Action) - {Action.CREATE}, "every action of the table has its body and call"


def perform(user: User, case: Case, action: Action, body: ActionIn) -> None:
    """Run ``action`` on ``case`` (found in the user's ``visible_cases``) with a parsed body. A body
    ``version`` becomes the version the action expects: the actions compare it with the locked row."""
    spec = SPECS[action]
    if not isinstance(body, spec.body):
        raise TypeError(f"{action} takes {spec.body.__name__}, not {type(body).__name__}")
    if body.version is not None:
        case.version = body.version
    spec.run(user, case, body)
