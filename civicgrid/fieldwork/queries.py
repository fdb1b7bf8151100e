"""What the grid worker's screens read, built on the permission module's scoped querysets.

"My cells" are the grid cells a person works: as a grid worker (``GridCell.workers``), as a grid leader
(``GridCell.leader``) or as a building head (the cells of the buildings they head). They are always cut
down to ``visible_grid_cells`` so that an assignment outside the person's grants shows nothing. Superusers
work everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet

from civicgrid.accounts.permissions import case_action_allowed, scope_of, visible_cases, visible_grid_cells
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Action, Cap, Group, Status, in_group
from civicgrid.fieldwork.models import HouseholdVisit
from civicgrid.grids.models import Building, GridCell

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from civicgrid.accounts.models import User

MAX_LISTED_CASES = 200  # a cell's open cases on one phone screen; more is a sign of a backlog, not a list
MAX_TASKS = 100


def _worked_q(user: User | AnonymousUser) -> Q:
    """Cells where the user is a grid worker or the grid leader."""
    if user.pk is None:
        return Q(pk__in=[])
    worked = GridCell.workers.through.objects.filter(user_id=user.pk).values("gridcell_id")
    return Q(pk__in=worked) | Q(leader_id=user.pk)


def my_cells(user: User | AnonymousUser) -> QuerySet[GridCell]:
    """The active grid cells the user works (see the module docstring)."""
    cells = visible_grid_cells(user).filter(is_active=True)
    if scope_of(user).is_superuser:
        return cells
    headed = Building.objects.filter(head_id=user.pk).values("grid_cell_id")
    return cells.filter(_worked_q(user) | Q(pk__in=headed))


def my_buildings(user: User | AnonymousUser) -> QuerySet[Building]:
    """The buildings in the user's cells (a visit may name one)."""
    return Building.objects.filter(grid_cell__in=my_cells(user))


def visible_visits(user: User | AnonymousUser) -> QuerySet[HouseholdVisit]:
    """The household visits a user may read: their own, and every visit in the cells they work as a grid
    worker or leader (the team's log). Building heads are volunteers: they see only their own visits,
    since findings may concern special groups (特殊人群)."""
    if scope_of(user).is_superuser:
        return HouseholdVisit.objects.all()
    team_cells = visible_grid_cells(user).filter(_worked_q(user))
    return HouseholdVisit.objects.filter(Q(by_id=user.pk) | Q(grid_cell__in=team_cells))


def cases_in_my_cells(user: User | AnonymousUser) -> QuerySet[Case]:
    """Cases the user can see that happened in one of their cells (the task pages look cases up here)."""
    return visible_cases(user).filter(grid_cell__in=my_cells(user))


def open_cases(user: User | AnonymousUser, cell: GridCell) -> QuerySet[Case]:
    """The open cases in one cell, the nearest deadline first (cases without one last, newest first)."""
    return (
        visible_cases(user)
        .filter(grid_cell=cell, status__in=in_group(Group.OPEN))
        .order_by(F("due_at").asc(nulls_last=True), "-received_at")
    )


@dataclass(frozen=True)
class Task:
    case: Case
    action: Action  # VERIFY (核查) or REVISIT (回访)


def task_action(user: User | AnonymousUser, case: Case) -> Action | None:
    """What the user may do on this case from the field screens now, if anything."""
    if case.status == Status.REPLIED and case_action_allowed(user, case, Action.VERIFY):
        return Action.VERIFY
    if (
        case.status == Status.RESOLVED
        and case.needs_revisit
        and case_action_allowed(user, case, Action.REVISIT)
    ):
        return Action.REVISIT
    return None


def my_tasks(user: User | AnonymousUser) -> list[Task]:
    """Cases in the user's cells waiting for them: replied ones to verify (核查) and, for those who
    revisit, resolved ones to revisit. Each is checked with case_action_allowed, as the action will."""
    scope = scope_of(user)
    # Only the states the user's roles could act on are read at all (grid workers never revisit).
    parts = []
    if scope.is_superuser or any(Cap.VERIFY in e.case_caps for e in scope.entries):
        parts.append(Q(status=Status.REPLIED))
    if scope.is_superuser or any(Cap.REVISIT in e.case_caps for e in scope.entries):
        parts.append(Q(status=Status.RESOLVED, needs_revisit=True))
    if not parts:
        return []
    wanted = parts[0]
    for part in parts[1:]:
        wanted |= part
    candidates = (
        cases_in_my_cells(user)
        .filter(wanted)
        .select_related("grid_cell")
        .order_by(F("due_at").asc(nulls_last=True), "-received_at")[:MAX_TASKS]
    )
    tasks = []
    for case in candidates:
        action = task_action(user, case)
        if action is not None:
            tasks.append(Task(case=case, action=action))
    return tasks
