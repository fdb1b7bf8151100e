"""Dispatch (派单) to a lead unit and co-handling units, acceptance (签收), returns (退单) and rulings (审定),
escalation (上报) and assignment down (下派), and the co-handling units' own accept / decline / reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from civicgrid.cases import clocks, notify
from civicgrid.cases.actions.base import case_step, require_text
from civicgrid.cases.actions.levels import current_lead, end_assignments, move_level
from civicgrid.cases.models import (
    AssignmentRole,
    AssignmentStatus,
    Case,
    CaseAssignment,
    HandlingClass,
    Stage,
    Trigger,
)
from civicgrid.cases.workflow import Action, Status
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.workcalendar.calendar import current_calendar

if TYPE_CHECKING:
    from civicgrid.accounts.models import User


def _check_units(case: Case, lead: Unit, assists: Sequence[Unit]) -> None:
    units = [lead, *assists]
    for i, unit in enumerate(units):
        name = "lead_unit" if i == 0 else "assist_units"
        if not unit.is_active:
            raise ValidationError({name: _("%(unit)s is no longer active.") % {"unit": unit.name}})
        if not unit.jurisdiction.path.startswith(case.level_path):
            raise ValidationError(
                {
                    name: _("%(unit)s is outside %(level)s; escalate the case instead.")
                    % {"unit": unit.name, "level": case.jurisdiction.name}
                }
            )
    if len({u.pk for u in units}) != len(units):
        raise ValidationError({"assist_units": _("Each unit may take part only once.")})


def do_dispatch(
    case: Case,
    *,
    lead: Unit,
    assists: Sequence[Unit] = (),
    note: str = "",
    actor: User | None,
) -> Case:
    """派单: the lead unit (and co-handling units for a 联办件) get the case; the accept clock starts. When
    the lead unit works below the desk's level, the case's level follows it (the desk can still step in),
    so an escalation by that unit goes to the level right above it."""
    with case_step(case, Action.DISPATCH, actor=actor, unit=lead) as step:
        c = step.case
        _check_units(c, lead, assists)
        if c.handling_class == HandlingClass.JOINT and not assists:
            raise ValidationError({"assist_units": _("A joint case needs at least one co-handling unit.")})
        cal = current_calendar()
        window = clocks.case_limits(c, Stage.RETURN_WINDOW)
        return_due = cal.add(step.at, float(window[0].value), window[0].unit) if window else None
        desk = c.jurisdiction
        for unit, role in [(lead, AssignmentRole.LEAD)] + [(u, AssignmentRole.ASSIST) for u in assists]:
            CaseAssignment.objects.create(
                case=c,
                unit=unit,
                role=role,
                status=AssignmentStatus.DISPATCHED,
                dispatched_from=desk,
                dispatched_by=step.actor,
                dispatched_at=step.at,
                return_due_at=return_due,
            )
        if assists and c.handling_class != HandlingClass.JOINT:
            step.set(handling_class=HandlingClass.JOINT)
        step.set(lead_unit=lead, dispatched_at=step.at, owner_ruled=False)
        if lead.jurisdiction_id != desk.pk:
            step.set(
                jurisdiction=lead.jurisdiction,
                level=lead.jurisdiction.level,
                level_path=lead.jurisdiction.path,
            )
        clocks.stop_clocks(c, Stage.DISPATCH, at=step.at)
        clocks.start_clocks(c, Stage.ACCEPT, at=step.at)
        if clocks.handle_starts_at_dispatch(c):
            clocks.start_clocks(c, Stage.HANDLE, at=step.at)
        step.data = {
            "lead": lead.code,
            "assists": [u.code for u in assists],
            "from": desk.code,
            "note": note,
        }
        notify.tell(notify.unit_staff(lead.pk), c, "case.dispatched", _("New case for your unit"))
        for unit in assists:
            notify.tell(notify.unit_staff(unit.pk), c, "case.dispatched", _("New joint case (co-handling)"))
    return case


def do_accept(case: Case, *, note: str = "", actor: User | None) -> Case:
    """签收 by the lead unit: the accept clock stops and the handling clock runs."""
    with case_step(case, Action.ACCEPT, actor=actor, unit=case.lead_unit) as step:
        c = step.case
        lead = current_lead(c)
        assert lead is not None, "a dispatched case has a current lead assignment"
        lead.status = AssignmentStatus.ACCEPTED
        lead.accepted_at = step.at
        lead.accepted_by = step.actor
        lead.save(update_fields=["status", "accepted_at", "accepted_by"])
        clocks.stop_clocks(c, Stage.ACCEPT, at=step.at)
        if not clocks.running(c, Stage.HANDLE):
            clocks.start_clocks(c, Stage.HANDLE, at=step.at)
        step.data = {"note": note}
    return case


def do_request_return(case: Case, *, reason: str, basis: str = "", actor: User | None) -> Case:
    """退单: the lead unit says the case is not theirs, with the reason and its basis (权责清单 clause),
    within the return window. The accept clock keeps running meanwhile, so bouncing does not pay."""
    reason = require_text(reason, "reason")
    with case_step(case, Action.REQUEST_RETURN, actor=actor, unit=case.lead_unit) as step:
        c = step.case
        if c.owner_ruled:
            raise ValidationError(
                {"reason": _("A ruling made your unit the owner of this case; it cannot be returned.")}
            )
        lead = current_lead(c)
        if lead is not None and lead.return_due_at is not None and step.at > lead.return_due_at:
            raise ValidationError({"reason": _("The time to return this case has passed.")})
        step.data = {"reason": reason, "basis": basis[:200]}
        if lead is not None:
            notify.tell(
                notify.desk_staff(lead.dispatched_from),
                c,
                "case.return_requested",
                _("A unit asks to return a case"),
                reason,
            )
    return case


def do_approve_return(case: Case, *, note: str = "", actor: User | None) -> Case:
    """同意退单: the return counts against the unit; the case is back at the desk that dispatched it."""
    with case_step(case, Action.APPROVE_RETURN, actor=actor) as step:
        c = step.case
        lead = current_lead(c)
        assert lead is not None
        reason = _last_return_reason(c)
        CaseAssignment.objects.filter(pk=lead.pk).update(
            status=AssignmentStatus.RETURNED, is_current=False, returned_at=step.at, return_reason=reason
        )
        end_assignments(c)
        clocks.stop_clocks(c, Stage.ACCEPT, Stage.HANDLE, at=step.at)
        desk = lead.dispatched_from
        step.set(
            lead_unit=None,
            return_count=c.return_count + 1,
            jurisdiction=desk,
            level=desk.level,
            level_path=desk.path,
        )
        clocks.start_clocks(c, Stage.DISPATCH, at=step.at)
        step.unit = lead.unit
        step.data = {"unit": lead.unit.code, "note": note}
    return case


def _last_return_reason(case: Case) -> str:
    event = case.events.filter(code=Action.REQUEST_RETURN).order_by("-seq").first()
    return str(event.data.get("reason", "")) if event else ""


def do_reject_return(case: Case, *, note: str, actor: User | None) -> Case:
    """审定: the return is refused and the unit becomes the final owner (no further returns)."""
    note = require_text(note, "note")
    with case_step(case, Action.REJECT_RETURN, actor=actor, unit=case.lead_unit) as step:
        c = step.case
        lead = current_lead(c)
        assert lead is not None
        lead.status = AssignmentStatus.DISPATCHED
        lead.save(update_fields=["status"])
        step.set(owner_ruled=True)
        if not clocks.running(c, Stage.ACCEPT):
            clocks.start_clocks(c, Stage.ACCEPT, at=step.at)
        step.data = {"note": note}
        notify.tell(
            notify.unit_staff(lead.unit_id),
            c,
            "case.return_rejected",
            _("Return refused: the case is yours"),
            note,
        )
    return case


def do_escalate(
    case: Case,
    *,
    reason: str,
    to: Jurisdiction | None = None,
    trigger: str = Trigger.MANUAL,
    actor: User | None,
) -> Case:
    """上报: the case goes to the desk of the level above (or ``to``, an ancestor, for rules), re-enters
    ``registered`` there, and the hop is recorded. 小事不出村、大事不出镇、难事不出区."""
    if trigger == Trigger.MANUAL:
        reason = require_text(reason, "reason")
    with case_step(case, Action.ESCALATE, actor=actor, unit=case.lead_unit) as step:
        c = step.case
        current = c.jurisdiction
        target = to or current.parent
        if target is None:
            raise ValidationError({"reason": _("The case is already at the top level.")})
        if not (current.path.startswith(target.path) and target.pk != current.pk):
            raise ValidationError({"to": _("A case can only be escalated to a level above it.")})
        hop = move_level(step, target, trigger=trigger, reason=reason, direction=1)
        step.data = {
            "from": current.code,
            "to": target.code,
            "from_level": hop.from_level,
            "to_level": hop.to_level,
            "trigger": trigger,
            "reason": reason,
        }
    return case


def do_assign_down(case: Case, *, to: Jurisdiction, reason: str = "", actor: User | None) -> Case:
    """下派: a registered case goes to the desk of a lower level inside this one."""
    with case_step(case, Action.ASSIGN_DOWN, actor=actor) as step:
        c = step.case
        if not to.path.startswith(c.level_path) or to.pk == c.jurisdiction_id:
            raise ValidationError({"to": _("Choose a level below the case's current level.")})
        hop = move_level(step, to, trigger=Trigger.MANUAL, reason=reason, direction=-1)
        step.data = {"from": hop.from_jurisdiction.code, "to": to.code, "reason": reason}
    return case


def do_assist_accept(case: Case, *, assignment: CaseAssignment, actor: User | None) -> Case:
    with case_step(case, Action.ASSIST_ACCEPT, actor=actor, assignment=assignment) as step:
        a = CaseAssignment.objects.select_related("unit").get(pk=assignment.pk)
        step.unit = a.unit
        if a.status != AssignmentStatus.DISPATCHED:
            raise ValidationError({"assignment": _("Your unit has already signed for this case.")})
        CaseAssignment.objects.filter(pk=a.pk).update(
            status=AssignmentStatus.ACCEPTED, accepted_at=step.at, accepted_by=step.actor
        )
        step.data = {"unit": a.unit.code}
    return case


def do_assist_return(case: Case, *, assignment: CaseAssignment, reason: str, actor: User | None) -> Case:
    """A co-handling unit declines its part (with a reason); the desk is told and may add another."""
    reason = require_text(reason, "reason")
    with case_step(case, Action.ASSIST_RETURN, actor=actor, assignment=assignment) as step:
        a = CaseAssignment.objects.select_related("unit").get(pk=assignment.pk)
        step.unit = a.unit
        if a.status not in (AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED):
            raise ValidationError({"assignment": _("Your unit has already replied.")})
        CaseAssignment.objects.filter(pk=a.pk).update(
            status=AssignmentStatus.RETURNED, is_current=False, returned_at=step.at, return_reason=reason
        )
        step.data = {"unit": a.unit.code, "reason": reason}
        notify.tell(
            notify.desk_staff(a.dispatched_from),
            step.case,
            "case.assist_returned",
            _("A co-handling unit declined"),
            reason,
        )
    return case


def do_assist_reply(case: Case, *, assignment: CaseAssignment, reply: str, actor: User | None) -> Case:
    """A co-handling unit's own reply to the lead unit; the lead can reply to the resident once every
    co-handling unit has replied or declined."""
    reply = require_text(reply, "reply")
    with case_step(case, Action.ASSIST_REPLY, actor=actor, assignment=assignment) as step:
        a = CaseAssignment.objects.select_related("unit").get(pk=assignment.pk)
        step.unit = a.unit
        if a.status != AssignmentStatus.ACCEPTED:
            raise ValidationError({"assignment": _("Sign for the case before replying.")})
        CaseAssignment.objects.filter(pk=a.pk).update(
            status=AssignmentStatus.REPLIED, replied_at=step.at, reply=reply
        )
        step.data = {"unit": a.unit.code, "reply": reply}
    return case


__all__ = [
    "Status",
    "do_accept",
    "do_approve_return",
    "do_assign_down",
    "do_assist_accept",
    "do_assist_reply",
    "do_assist_return",
    "do_dispatch",
    "do_escalate",
    "do_reject_return",
    "do_request_return",
]
