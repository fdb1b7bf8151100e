"""Moving a case between levels (上报 up the ladder, 下派 down) and ending unit assignments: shared by
escalation, assignment down, rule escalation at registration, returns and reopening."""

from __future__ import annotations

from django.utils.translation import gettext as _

from civicgrid.cases import clocks, notify
from civicgrid.cases.actions.base import Step
from civicgrid.cases.models import (
    AssignmentStatus,
    Case,
    CaseAssignment,
    CaseEvent,
    Category,
    EscalationHop,
    Stage,
)
from civicgrid.jurisdictions.models import LADDER, Jurisdiction, Level


def level_rank(level: str) -> int:
    return LADDER.index(Level(level))


def end_assignments(case: Case, *, status: AssignmentStatus = AssignmentStatus.ENDED) -> int:
    """Close the current unit assignments (kept for the record; returns count against their unit). A unit
    that already replied keeps "replied"; one still working ends with ``status``."""
    current = CaseAssignment.objects.filter(case=case, is_current=True)
    current.filter(status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED]).update(status=status)
    return current.update(is_current=False)


def current_lead(case: Case) -> CaseAssignment | None:
    return CaseAssignment.objects.filter(case=case, is_current=True, role="lead").first()


def move_level(step: Step, to: Jurisdiction, *, trigger: str, reason: str, direction: int) -> EscalationHop:
    """Put the case at ``to``'s desk in ``registered``: end the units' part, record the hop, restart the
    dispatch clock and tell the new desk. The caller sets the status through its transition."""
    case = step.case
    hop = EscalationHop.objects.create(
        case=case,
        direction=direction,
        from_level=case.level,
        to_level=to.level,
        from_jurisdiction_id=case.jurisdiction_id,
        to_jurisdiction=to,
        from_unit_id=case.lead_unit_id,
        trigger=trigger,
        reason=reason,
        actor=step.actor,
        at=step.at,
    )
    end_assignments(case)
    clocks.stop_clocks(case, Stage.DISPATCH, Stage.ACCEPT, Stage.HANDLE, at=step.at)
    step.set(
        jurisdiction=to,
        level=to.level,
        level_path=to.path,
        lead_unit=None,
        owner_ruled=False,
    )
    if direction > 0:
        step.set(escalation_count=case.escalation_count + 1)
    clocks.start_clocks(case, Stage.DISPATCH, at=step.at)
    notify.tell(
        notify.desk_staff(to),
        case,
        "case.escalated" if direction > 0 else "case.assigned_down",
        _("Case escalated to your level") if direction > 0 else _("Case assigned to your level"),
        reason or case.title,
    )
    return hop


def append_event(step: Step, code: str, data: dict[str, object]) -> CaseEvent:
    """An extra event inside a step (e.g. each rule hop at registration), keeping seq gap-free."""
    case = step.case
    case.version += 1
    return CaseEvent.objects.create(
        case=case,
        seq=case.version,
        code=code,
        actor=step.actor,
        at=step.at,
        from_status=case.status,
        to_status=case.status,
        data=data,
    )


def required_level(category: Category | None) -> str:
    """The highest ``min_level`` on the category or its ancestors ('' when none)."""
    if category is None:
        return ""
    levels = [
        level
        for level in Category.objects.filter(code__in=category.ancestor_codes).values_list(
            "min_level", flat=True
        )
        if level
    ]
    return max(levels, key=level_rank) if levels else ""


def ancestor_at(node: Jurisdiction, level: str) -> Jurisdiction | None:
    for ancestor in node.ancestors_and_self():
        if ancestor.level == level:
            return ancestor
    return None
