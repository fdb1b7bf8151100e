"""The write path every case action shares: lock, authorize, check the table, change, append the event.

Locking policy (docs/architecture.md, "Cases"): an action locks the case row with ``SELECT … FOR UPDATE``
and then compares the version it locked with the version the caller read. Two people acting on the same
case at once are therefore serialized by the row lock, and the second is told (``CaseConflict``) instead
of silently writing over a state they never saw — no lost update, and nothing is changed by the loser.
On SQLite writers are serialized by the database (BEGIN IMMEDIATE), with the same version check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.permissions import case_action_allowed
from civicgrid.cases import changes, clocks
from civicgrid.cases.models import Case, CaseAssignment, CaseEvent
from civicgrid.cases.workflow import Action, Status, check_transition
from civicgrid.lib import clock

if TYPE_CHECKING:
    from civicgrid.accounts.models import User
    from civicgrid.jurisdictions.models import Unit


class CaseConflict(Exception):  # noqa: N818 — the name the API and docs use
    """Someone else changed the case since the caller read it; nothing was changed. Reload and retry."""

    def __init__(self, case: Case, expected: int) -> None:
        self.case_id = case.pk
        self.expected = expected
        self.actual = case.version
        super().__init__(
            _(
                "Case %(number)s was changed by someone else (version %(actual)s, you saw %(expected)s). "
                "Reload it and try again."
            )
            % {"number": case.number, "actual": case.version, "expected": expected}
        )


def lock_case(case: Case, *, expected_version: int | None = None) -> Case:
    """The case row, locked for this transaction; CaseConflict if its version moved since the caller read it."""
    # NO KEY UPDATE: we never change the case's key, so rows that merely reference it (events, clocks)
    # can still be inserted by others meanwhile; ``of`` keeps the lock off the joined catalogue rows.
    locked = (
        Case.objects.select_for_update(no_key=True, of=("self",))
        .select_related("category", "jurisdiction", "lead_unit")
        .get(pk=case.pk)
    )
    expected = case.version if expected_version is None else expected_version
    if locked.version != expected:
        raise CaseConflict(locked, expected)
    return locked


def authorize(
    actor: User | None, case: Case, action: Action, *, assignment: CaseAssignment | None = None
) -> None:
    """Raise PermissionDenied unless the actor may perform the action here (actor None: the system)."""
    if actor is not None and not case_action_allowed(actor, case, action, assignment=assignment):
        raise PermissionDenied(_("You may not %(action)s this case.") % {"action": Action(action).label})


def require_text(value: str, field_name: str, *, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field_name: _("This field is required.")})
    if max_length is not None and len(text) > max_length:
        raise ValidationError(
            {field_name: _("At most %(n)s characters, this has %(m)s.") % {"n": max_length, "m": len(text)}}
        )
    return text


@dataclass
class Step:
    """One action in progress on a locked case."""

    case: Case
    action: Action
    actor: User | None
    at: datetime
    from_status: str
    to_status: Status | None
    data: dict[str, Any] = field(default_factory=dict)
    unit: Unit | None = None
    update_fields: set[str] = field(default_factory=set)

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self.case, name, value)
            self.update_fields.add(name)


@contextmanager
def case_step(
    case: Case,
    action: Action,
    *,
    actor: User | None,
    target: Status | None = None,
    assignment: CaseAssignment | None = None,
    expected_version: int | None = None,
    unit: Unit | None = None,
) -> Iterator[Step]:
    """Lock, authorize and check the transition; let the caller change the case; then save it, refresh its
    due columns and append the event — all in one transaction. An exception anywhere rolls everything back.

    The caller's ``case`` instance is refreshed in place afterwards, so it can be used for the next action.
    """
    with transaction.atomic():
        locked = lock_case(case, expected_version=expected_version)
        # The state first: a refused transition is refused the same way whoever asks (the caller could
        # already see the case, or it would have been a 404 before reaching here).
        to_status = check_transition(action, locked.status, target)
        if assignment is not None:
            found = (
                CaseAssignment.objects.select_for_update(no_key=True)
                .filter(pk=assignment.pk, case_id=locked.pk)
                .first()
            )
            if found is None or found.role != "assist" or not found.is_current:
                raise ValidationError(
                    {"assignment": _("This is not a current co-handling assignment of the case.")}
                )
            assignment = found
        authorize(actor, locked, action, assignment=assignment)
        step = Step(
            case=locked,
            action=action,
            actor=actor,
            at=clock.now(),
            from_status=locked.status,
            to_status=to_status,
            unit=unit,
        )
        yield step
        finish(step)
    _copy_into(case, locked)


def finish(step: Step) -> CaseEvent:
    """Apply the new status, bump the version, save the changed columns and append the event."""
    case = step.case
    if step.to_status is not None:
        case.status = step.to_status
    case.version += 1
    case.updated_at = step.at
    fields = step.update_fields | {"status", "version", "updated_at"}
    if clocks.clocks_changed(case):  # most side records (urge, supervise, notes) leave the clocks alone
        clocks.refresh_due(case, at=step.at)
        fields |= {"due_at", "due_stage", "timing", "was_overdue"}
    case.save(update_fields=sorted(fields))
    changes.mark_changed(case)
    return CaseEvent.objects.create(
        case=case,
        seq=case.version,
        code=str(step.action),
        actor=step.actor,
        at=step.at,
        from_status=step.from_status,
        to_status=case.status,
        unit=step.unit,
        data=step.data,
    )


def _copy_into(target: Case, source: Case) -> None:
    for f in Case._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))
    # Related objects cached on the caller's instance may be stale now.
    target._state.fields_cache = dict(source._state.fields_cache)
