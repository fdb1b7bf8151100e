"""Before dispatch: answer directly, confirm on site, register (立案, with rule escalation), void, merge,
split and withdraw."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.permissions import visible_cases
from civicgrid.cases import changes, clocks, notify
from civicgrid.cases.actions.base import case_step, require_text
from civicgrid.cases.actions.dispatching import do_escalate
from civicgrid.cases.actions.intake import next_case_number
from civicgrid.cases.actions.levels import ancestor_at, end_assignments, level_rank, required_level
from civicgrid.cases.models import (
    Case,
    CaseEvent,
    Category,
    HandlingClass,
    Nature,
    Stage,
    Trigger,
    Urgency,
)
from civicgrid.cases.workflow import GROUPS, Action, Group, Status

if TYPE_CHECKING:
    from civicgrid.accounts.models import User


def do_answer_directly(case: Case, *, answer: str, actor: User | None) -> Case:
    """直接答复: a consultation answered at intake (from the knowledge base); never dispatched."""
    answer = require_text(answer, "answer")
    with case_step(case, Action.ANSWER_DIRECTLY, actor=actor) as step:
        if step.case.nature != Nature.CONSULT:
            raise ValidationError({"nature": _("Only consultations can be answered directly.")})
        clocks.stop_clocks(step.case, at=step.at)
        step.set(reply=answer, replied_at=step.at, closed_at=step.at)
        step.data = {"answer": answer}
        notify.tell_resident(step.case, "case.answered", notify.reply_text(step.case))
    return case


def do_request_confirmation(case: Case, *, note: str = "", actor: User | None) -> Case:
    """核实: ask the place's grid staff to confirm the report on site before it is registered."""
    with case_step(case, Action.REQUEST_CONFIRMATION, actor=actor) as step:
        step.data = {"note": note}
    return case


def do_register(
    case: Case,
    *,
    category: Category,
    handling_class: str | None = None,
    urgency: str | None = None,
    nature: str | None = None,
    title: str | None = None,
    note: str = "",
    actor: User | None,
) -> Case:
    """立案: classify the case, set its limits and put it at its level's desk. A category that must be
    handled higher up (``min_level``) and a 上报件 move it up at once, each hop recorded (trigger "rule")."""
    if category is None or not category.is_active:
        raise ValidationError({"category": _("Choose an active category.")})
    for value, choices, name in (
        (handling_class, HandlingClass, "handling_class"),
        (urgency, Urgency, "urgency"),
        (nature, Nature, "nature"),
    ):
        if value is not None and value not in choices.values:
            raise ValidationError({name: _("“%(value)s” is not a valid choice.") % {"value": value}})
    with transaction.atomic():
        with case_step(case, Action.REGISTER, actor=actor) as step:
            c = step.case
            step.set(category=category, registered_at=step.at)
            if handling_class:
                step.set(handling_class=handling_class)
            if urgency:
                step.set(urgency=urgency)
            if nature:
                step.set(nature=nature)
            if title:
                step.set(title=require_text(title, "title", max_length=200))
            clocks.stop_clocks(c, Stage.REGISTER, at=step.at)
            step.data = {
                "category": category.code,
                "handling_class": c.handling_class,
                "urgency": c.urgency,
                "note": note,
            }
            target = _rule_level(c)
            if target is None:
                clocks.start_clocks(c, Stage.DISPATCH, at=step.at)
                notify.tell(
                    notify.desk_staff(c.jurisdiction), c, "case.registered", _("New case to dispatch")
                )
        if target is not None:
            # The rule's hop is the system's doing, recorded as its own event right after the registration.
            do_escalate(
                case,
                to=target,
                reason=_("Handled at a higher level by rule."),
                trigger=Trigger.RULE,
                actor=None,
            )
    return case


def _rule_level(case: Case) -> Any:
    """The jurisdiction a rule demands, when above the case's level (None: stay)."""
    wanted = required_level(case.category)
    node = case.jurisdiction
    if wanted and level_rank(wanted) > level_rank(node.level):
        return ancestor_at(node, wanted) or node
    if case.handling_class == HandlingClass.ESCALATED and node.parent_id is not None:
        return node.parent
    return None


def do_void(case: Case, *, reason: str, actor: User | None) -> Case:
    """不予立案, with the reason kept."""
    reason = require_text(reason, "reason")
    with case_step(case, Action.VOID, actor=actor) as step:
        clocks.stop_clocks(step.case, at=step.at)
        step.data = {"reason": reason}
    return case


def do_withdraw(case: Case, *, reason: str, actor: User | None) -> Case:
    """撤回 at the resident's request, before the reply."""
    reason = require_text(reason, "reason")
    with case_step(case, Action.WITHDRAW, actor=actor) as step:
        end_assignments(step.case)
        clocks.stop_clocks(step.case, at=step.at)
        step.set(lead_unit=None)
        step.data = {"reason": reason}
    return case


def do_merge(case: Case, *, master: Case, reason: str = "", actor: User | None) -> Case:
    """并案: the case becomes a duplicate of ``master``, which keeps every resident for the revisit."""
    if master.pk == case.pk:
        raise ValidationError({"master": _("A case cannot be merged into itself.")})
    if actor is not None and not visible_cases(actor).filter(pk=master.pk).exists():
        raise ValidationError({"master": _("No such case.")})
    if master.status in GROUPS[Group.DROPPED]:
        raise ValidationError({"master": _("The master case was voided, merged, split or withdrawn.")})
    with case_step(case, Action.MERGE, actor=actor) as step:
        clocks.stop_clocks(step.case, at=step.at)
        step.set(duplicate_of=master)
        step.data = {"master": master.number, "reason": reason}
    return case


def do_split(case: Case, *, parts: list[dict[str, Any]], actor: User | None) -> list[Case]:
    """拆分: the case ends in ``split`` and each part becomes a registered child case at the same level,
    with the same place and resident. Each part: ``title``, ``description``, ``category`` and optionally
    ``handling_class`` / ``urgency``."""
    if len(parts) < 2:
        raise ValidationError({"parts": _("Split into at least two cases.")})
    for i, part in enumerate(parts):
        require_text(part.get("title", ""), f"parts[{i}].title", max_length=200)
        require_text(part.get("description", ""), f"parts[{i}].description")
        category = part.get("category")
        if not isinstance(category, Category) or not category.is_active:
            raise ValidationError({f"parts[{i}].category": _("Choose an active category.")})
    children: list[Case] = []
    with transaction.atomic(), case_step(case, Action.SPLIT, actor=actor) as step:
        parent = step.case
        clocks.stop_clocks(parent, at=step.at)
        for part in parts:
            child = Case.objects.create(
                number=next_case_number(parent.number.split("-")[0], timezone.localtime(step.at).year),
                kind=parent.kind,
                channel=parent.channel,
                nature=parent.nature,
                category=part["category"],
                handling_class=part.get("handling_class") or parent.handling_class,
                urgency=part.get("urgency") or parent.urgency,
                title=part["title"].strip(),
                description=part["description"].strip(),
                address=parent.address,
                lon=parent.lon,
                lat=parent.lat,
                grid_cell_id=parent.grid_cell_id,
                origin_id=parent.origin_id,
                origin_path=parent.origin_path,
                jurisdiction_id=parent.jurisdiction_id,
                level=parent.level,
                level_path=parent.level_path,
                reporter_name=parent.reporter_name,
                reporter_phone=parent.reporter_phone,
                reporter_phone_digest=parent.reporter_phone_digest,
                is_anonymous=parent.is_anonymous,
                needs_revisit=parent.needs_revisit,
                status=Status.REGISTERED,
                version=1,
                created_by=step.actor,
                parent=parent,
                received_at=parent.received_at,
                registered_at=step.at,
            )
            CaseEvent.objects.create(
                case=child,
                seq=1,
                code=str(Action.CREATE),
                actor=step.actor,
                at=step.at,
                from_status="",
                to_status=Status.REGISTERED,
                data={"split_from": parent.number, "category": child.category.code if child.category else ""},
            )
            clocks.start_clocks(child, Stage.DISPATCH, at=step.at)
            clocks.refresh_due(child, at=step.at)
            child.save(update_fields=["due_at", "due_stage", "timing"])
            changes.mark_changed(child)
            children.append(child)
        step.data = {"children": [c.number for c in children]}
    return children
