"""While a unit handles a case: extensions (延期), waiting for the resident, suspension (挂起), staged
milestones, supervision (督办) and urging (催办), and the reply (办结答复)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.cases import clocks, notify
from civicgrid.cases.actions.base import case_step, require_text
from civicgrid.cases.actions.intake import PhotoUpload, _save_photo, check_photo
from civicgrid.cases.actions.levels import current_lead
from civicgrid.cases.models import (
    AssignmentStatus,
    Case,
    CaseAssignment,
    DecisionStatus,
    ExtensionRequest,
    OrderKind,
    PhotoStage,
    Stage,
    SupervisionOrder,
    TimeUnit,
    Trigger,
)
from civicgrid.cases.workflow import Action

if TYPE_CHECKING:
    from civicgrid.accounts.models import User


def _amount(value: Decimal | float | str, field_name: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field_name: _("Enter a number.")}) from None
    if amount <= 0 or amount > 1000:
        raise ValidationError({field_name: _("Enter a positive amount.")})
    return amount


def do_request_extension(
    case: Case,
    *,
    amount: Decimal | float | str,
    reason: str,
    time_unit: str | None = None,
    actor: User | None,
) -> ExtensionRequest:
    """申请延期, before the handling deadline, within the cap on all extensions of the case."""
    amount = _amount(amount, "amount")
    reason = require_text(reason, "reason")
    with case_step(case, Action.REQUEST_EXTENSION, actor=actor, unit=case.lead_unit) as step:
        c = step.case
        handle = list(clocks.running(c, Stage.HANDLE))
        if not handle:
            raise ValidationError({"amount": _("This case has no handling time limit to extend.")})
        last = max(handle, key=lambda k: k.deadline_at)
        unit = time_unit or last.unit
        if unit not in TimeUnit.values:
            raise ValidationError({"time_unit": _("“%(value)s” is not a valid choice.") % {"value": unit}})
        if step.at >= last.deadline_at:
            raise ValidationError({"amount": _("An extension must be requested before the deadline.")})
        if ExtensionRequest.objects.filter(case=c, status=DecisionStatus.PENDING).exists():
            raise ValidationError({"amount": _("An extension request is already waiting for a decision.")})
        _check_cap(c, amount, unit)
        assert c.lead_unit is not None, "a handling case has a lead unit"
        request = ExtensionRequest.objects.create(
            case=c,
            unit=c.lead_unit,
            requested_by=step.actor,
            requested_at=step.at,
            amount=amount,
            time_unit=unit,
            reason=reason,
        )
        step.data = {"request": request.pk, "amount": str(amount), "time_unit": unit, "reason": reason}
        notify.tell(
            notify.oversight_staff(c), c, "case.extension_requested", _("Extension requested"), reason
        )
    return request


def _check_cap(case: Case, amount: Decimal, unit: str) -> None:
    cap = clocks.case_limits(case, Stage.EXTENSION_CAP)
    if not cap or cap[0].unit != unit:
        return  # no cap, or a cap in another unit: the oversight office judges
    granted = sum(
        (e.approved_amount or Decimal(0))
        for e in ExtensionRequest.objects.filter(case=case, status=DecisionStatus.APPROVED, time_unit=unit)
    )
    if granted + amount > cap[0].value:
        raise ValidationError(
            {
                "amount": _("Extensions may add at most %(cap)s in all; %(granted)s are already granted.")
                % {"cap": cap[0].value, "granted": granted}
            }
        )


def do_decide_extension(
    case: Case,
    *,
    request: ExtensionRequest,
    approve: bool,
    amount: Decimal | float | str | None = None,
    note: str = "",
    actor: User | None,
) -> ExtensionRequest:
    """延期审批 by the oversight office: approval moves the handling deadline(s) by the approved amount."""
    with case_step(case, Action.DECIDE_EXTENSION, actor=actor) as step:
        c = step.case
        locked = ExtensionRequest.objects.select_for_update(no_key=True).filter(pk=request.pk, case=c).first()
        if locked is None:
            raise ValidationError({"request": _("No such extension request on this case.")})
        if locked.status != DecisionStatus.PENDING:
            raise ValidationError({"request": _("This extension request was already decided.")})
        locked.decided_by = step.actor
        locked.decided_at = step.at
        locked.decision_note = note
        if approve:
            granted = _amount(amount, "amount") if amount is not None else locked.amount
            _check_cap(c, granted, locked.time_unit)
            locked.status = DecisionStatus.APPROVED
            locked.approved_amount = granted
            clocks.extend_clocks(c, Stage.HANDLE, granted, locked.time_unit)
            step.set(extension_count=c.extension_count + 1)
        else:
            locked.status = DecisionStatus.REJECTED
        locked.save()
        step.data = {
            "request": locked.pk,
            "approved": approve,
            "amount": str(locked.approved_amount or ""),
            "note": note,
        }
        if c.lead_unit_id:
            notify.tell(
                notify.unit_staff(c.lead_unit_id),
                c,
                "case.extension_decided",
                _("Extension approved") if approve else _("Extension refused"),
                note,
            )
    return locked


def do_await_resident(case: Case, *, note: str, actor: User | None) -> Case:
    """待群众补充: the unit waits for the resident (documents, access); the clocks stand still."""
    note = require_text(note, "note")
    with case_step(case, Action.AWAIT_RESIDENT, actor=actor, unit=case.lead_unit) as step:
        clocks.pause_clocks(step.case, at=step.at)
        step.data = {"note": note}
    return case


def do_resident_responded(case: Case, *, note: str = "", actor: User | None) -> Case:
    with case_step(case, Action.RESIDENT_RESPONDED, actor=actor, unit=case.lead_unit) as step:
        clocks.resume_clocks(step.case, at=step.at)
        step.data = {"note": note}
    return case


def do_suspend(case: Case, *, reason: str, actor: User | None) -> Case:
    """挂起, approved by the oversight office (e.g. waiting for a court ruling); the clocks stand still."""
    reason = require_text(reason, "reason")
    with case_step(case, Action.SUSPEND, actor=actor) as step:
        clocks.pause_clocks(step.case, at=step.at)
        step.data = {"reason": reason}
    return case


def do_resume(case: Case, *, note: str = "", actor: User | None) -> Case:
    with case_step(case, Action.RESUME, actor=actor) as step:
        clocks.resume_clocks(step.case, at=step.at)
        step.data = {"note": note}
    return case


def do_complete_milestone(case: Case, *, seq: int, note: str = "", actor: User | None) -> Case:
    """One stage of a staged limit is done (e.g. 停工 before 处罚); its clock stops."""
    with case_step(case, Action.COMPLETE_MILESTONE, actor=actor, unit=case.lead_unit) as step:
        c = step.case
        stages = [k for k in clocks.running(c, Stage.HANDLE) if k.seq == seq]
        if not stages:
            raise ValidationError({"seq": _("No running handling stage with that number.")})
        if len(clocks.running(c, Stage.HANDLE)) == 1:
            raise ValidationError({"seq": _("The last stage ends with the reply.")})
        clocks.stop_clocks(c, Stage.HANDLE, at=step.at, seq=seq)
        step.data = {"seq": seq, "label": stages[0].label, "note": note}
    return case


def do_supervise(
    case: Case,
    *,
    opinion: str,
    reply_due_at: datetime | None = None,
    trigger: str = Trigger.MANUAL,
    actor: User | None,
) -> SupervisionOrder:
    """督办: a supervision order with an opinion and a reply deadline; the case is flagged."""
    if trigger == Trigger.MANUAL:
        opinion = require_text(opinion, "opinion")
    with case_step(case, Action.SUPERVISE, actor=actor) as step:
        c = step.case
        order = SupervisionOrder.objects.create(
            case=c,
            kind=OrderKind.SUPERVISE,
            trigger=trigger,
            by=step.actor,
            to_unit_id=c.lead_unit_id,
            at=step.at,
            opinion=opinion,
            reply_due_at=reply_due_at,
        )
        step.set(is_supervised=True)
        step.data = {"order": order.pk, "opinion": opinion, "trigger": trigger}
        _tell_owner(c, "case.supervised", _("Case under supervision"), opinion)
    return order


def do_urge(
    case: Case, *, note: str = "", trigger: str = Trigger.MANUAL, actor: User | None
) -> SupervisionOrder:
    """催办: a reminder to whoever holds the case now; counted."""
    with case_step(case, Action.URGE, actor=actor) as step:
        c = step.case
        order = SupervisionOrder.objects.create(
            case=c,
            kind=OrderKind.URGE,
            trigger=trigger,
            by=step.actor,
            to_unit_id=c.lead_unit_id,
            at=step.at,
            opinion=note,
        )
        step.set(urge_count=c.urge_count + 1)
        step.data = {"order": order.pk, "note": note, "trigger": trigger}
        _tell_owner(c, "case.urged", _("Reminder: case waiting for you"), note)
    return order


def _tell_owner(case: Case, kind: str, subject: str, body: str, dedupe: str | None = None) -> None:
    users = (
        notify.unit_staff(case.lead_unit_id) if case.lead_unit_id else notify.desk_staff(case.jurisdiction)
    )
    notify.tell(users, case, kind, subject, body, dedupe=dedupe)


def do_reply(
    case: Case,
    *,
    reply: str,
    photos: tuple[PhotoUpload, ...] = (),
    actor: User | None,
) -> Case:
    """办结答复: the lead unit reports what was done and answers the resident. Every co-handling unit must
    have replied or declined first. Without required verification the case is resolved at once."""
    reply = require_text(reply, "reply", max_length=20000)
    photo_types = [check_photo(p) for p in photos]
    from civicgrid.cases.actions.closing import do_verify

    with transaction.atomic():
        with case_step(case, Action.REPLY, actor=actor, unit=case.lead_unit) as step:
            c = step.case
            waiting = CaseAssignment.objects.filter(
                case=c,
                is_current=True,
                role="assist",
                status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED],
            )
            if waiting.exists():
                names = ", ".join(a.unit.name for a in waiting.select_related("unit"))
                raise ValidationError(
                    {"reply": _("Waiting for the co-handling units: %(units)s.") % {"units": names}}
                )
            lead = current_lead(c)
            if lead is not None:
                CaseAssignment.objects.filter(pk=lead.pk).update(
                    status=AssignmentStatus.REPLIED, replied_at=step.at, reply=reply
                )
            for photo, content_type in zip(photos, photo_types, strict=True):
                _save_photo(c, photo, content_type, PhotoStage.REPLY, actor=step.actor, at=step.at)
            clocks.stop_clocks(c, Stage.HANDLE, at=step.at)
            step.set(reply=reply, replied_at=step.at)
            needs_verification = c.category is None or c.category.requires_verification
            if needs_verification:
                clocks.start_clocks(c, Stage.VERIFY, at=step.at)
            step.data = {"reply": reply, "photos": len(photos)}
            if not c.is_anonymous:
                notify.tell_resident(c, "case.replied", notify.reply_text(c))
        if not needs_verification:
            do_verify(case, passed=True, note=_("No verification required for this category."), actor=None)
    return case
