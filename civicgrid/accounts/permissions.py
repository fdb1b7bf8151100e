"""The one permission module: what a user may see and do, decided from their role grants.

Rules (docs/architecture.md, "Permissions"):
- Each grant gives a *scope entry*: the jurisdiction's subtree (its ``path`` prefix), the unit if the grant is
  for a unit, and the capabilities of the role (ROLE_CAPABILITIES).
- Geography (jurisdictions, units, grid cells, buildings) is visible within the subtree of any grant with
  VIEW_MAP. For a unit grant the subtree is that of the unit's jurisdiction.
- Staff are visible within the subtree of a grant with VIEW_STAFF; a unit grant sees only its own unit's staff.
- Unmasked personal data needs VIEW_PERSONAL_DATA over the record, and each view is logged by the caller.
- Superusers (platform operators) see everything. Nobody else sees anything outside their grants.
Views and API endpoints call these functions and nothing else to authorize; out-of-scope objects are 404s
(existence is not leaked), missing capabilities are 403s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from civicgrid.accounts.models import Role, RoleGrant, User
from civicgrid.cases.workflow import TRANSITIONS, Action, Cap
from civicgrid.cases.workflow import Scope as CaseScope
from civicgrid.lib import sqlrows

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from civicgrid.cases.models import Case, CaseAssignment
    from civicgrid.grids.models import Building, GridCell
    from civicgrid.jurisdictions.models import Jurisdiction, Unit


class Capability(StrEnum):
    VIEW_MAP = "view_map"  # the jurisdiction tree, units, grid cells and buildings
    VIEW_STAFF = "view_staff"  # the staff directory (phones masked)
    VIEW_PERSONAL_DATA = "view_personal_data"  # unmask a phone or ID number; every use is logged
    ADMINISTER = "administer"  # edit jurisdictions, units, staff, roles and grid cells in the admin
    ASSESS = "assess"  # publish the assessment rankings (考核) of schemes in the subtree


_ALL_STAFF = frozenset({Capability.VIEW_MAP})
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.WINDOW_CLERK: _ALL_STAFF,
    Role.INTAKE_OPERATOR: _ALL_STAFF,
    Role.GRID_WORKER: _ALL_STAFF,
    Role.BUILDING_HEAD: _ALL_STAFF,
    Role.HANDLER: _ALL_STAFF,
    Role.MEDIATOR: _ALL_STAFF,
    Role.GRID_LEADER: _ALL_STAFF | {Capability.VIEW_STAFF},
    Role.LEADER: _ALL_STAFF | {Capability.VIEW_STAFF, Capability.ASSESS},
    # Dispatchers and supervisors phone handlers to urge and supervise, so they may unmask staff phones.
    Role.DISPATCHER: _ALL_STAFF | {Capability.VIEW_STAFF, Capability.VIEW_PERSONAL_DATA},
    # The supervision centre (督查) runs the assessments; leaders sign them off. Either may publish a ranking.
    Role.SUPERVISOR: _ALL_STAFF | {Capability.VIEW_STAFF, Capability.VIEW_PERSONAL_DATA, Capability.ASSESS},
    Role.ADMINISTRATOR: _ALL_STAFF
    | {Capability.VIEW_STAFF, Capability.VIEW_PERSONAL_DATA, Capability.ADMINISTER},
}
assert set(ROLE_CAPABILITIES) == set(Role.values), "every role needs a capability set"

# What each role may do to cases (the scopes are in civicgrid.cases.workflow.TRANSITIONS). Creating a case
# needs REPORT; INTAKE adds registering, answering, voiding and withdrawing at the grant's level.
ROLE_CASE_CAPABILITIES: dict[str, frozenset[Cap]] = {
    Role.WINDOW_CLERK: frozenset({Cap.REPORT, Cap.INTAKE}),
    Role.INTAKE_OPERATOR: frozenset({Cap.REPORT, Cap.INTAKE, Cap.VERIFY, Cap.REVISIT}),
    Role.GRID_WORKER: frozenset({Cap.REPORT, Cap.VERIFY}),
    # The 网格长 runs the community's desk: 小事不出村 needs someone to dispatch at community level.
    Role.GRID_LEADER: frozenset({Cap.REPORT, Cap.INTAKE, Cap.DISPATCH, Cap.VERIFY}),
    Role.BUILDING_HEAD: frozenset({Cap.REPORT}),
    Role.DISPATCHER: frozenset({Cap.REPORT, Cap.INTAKE, Cap.DISPATCH, Cap.VERIFY, Cap.REVISIT}),
    Role.HANDLER: frozenset({Cap.HANDLE}),
    Role.MEDIATOR: frozenset({Cap.HANDLE}),
    # The supervision centre (监督中心) also re-checks replies (核查, workflow.md step 6) where the case happened.
    Role.SUPERVISOR: frozenset({Cap.SUPERVISE, Cap.VERIFY}),
    Role.LEADER: frozenset({Cap.SUPERVISE}),  # a leader's instruction (批示) is a supervision order
    Role.ADMINISTRATOR: frozenset(),
}
assert set(ROLE_CASE_CAPABILITIES) == set(Role.values), "every role needs a case capability set"
# Unit-bound roles see only the cases their unit took part in; everyone else sees their subtree.
CASES_BY_UNIT: frozenset[str] = frozenset({Role.HANDLER, Role.MEDIATOR})
# Who may unmask a resident's phone on a case they can see (they call residents back); each view is logged.
CAN_CONTACT_REPORTER: frozenset[Cap] = frozenset(
    {Cap.INTAKE, Cap.DISPATCH, Cap.HANDLE, Cap.REVISIT, Cap.SUPERVISE}
)


class Workplace(StrEnum):
    """The role screens of the web interface; the navigation offers those a user may open."""

    CASES = "cases"  # queues and case pages (dispatchers, handlers, supervisors, desks)
    HOTLINE = "hotline"  # the hotline operator's intake and knowledge base
    WINDOW = "window"  # the service window (便民服务中心)
    FIELD = "field"  # the grid worker's phone screens
    OVERVIEW = "overview"  # the leaders' overview of their jurisdiction


WORKPLACES: dict[str, frozenset[Workplace]] = {
    Role.WINDOW_CLERK: frozenset({Workplace.WINDOW, Workplace.CASES}),
    Role.INTAKE_OPERATOR: frozenset({Workplace.HOTLINE, Workplace.CASES}),
    Role.GRID_WORKER: frozenset({Workplace.FIELD}),
    Role.GRID_LEADER: frozenset({Workplace.FIELD, Workplace.CASES}),
    Role.BUILDING_HEAD: frozenset({Workplace.FIELD}),
    Role.DISPATCHER: frozenset({Workplace.CASES, Workplace.HOTLINE, Workplace.OVERVIEW}),
    Role.HANDLER: frozenset({Workplace.CASES}),
    Role.MEDIATOR: frozenset({Workplace.CASES}),
    Role.SUPERVISOR: frozenset({Workplace.CASES, Workplace.OVERVIEW}),
    Role.LEADER: frozenset({Workplace.OVERVIEW, Workplace.CASES}),
    Role.ADMINISTRATOR: frozenset(),
}
assert set(WORKPLACES) == set(Role.values), "every role needs its workplaces"


@dataclass(frozen=True)
class ScopeEntry:
    role: str
    path: str
    unit_id: int | None
    capabilities: frozenset[Capability]
    case_caps: frozenset[Cap] = frozenset()


@dataclass(frozen=True)
class Scope:
    is_superuser: bool
    entries: tuple[ScopeEntry, ...]

    def has(self, capability: Capability) -> bool:
        return self.is_superuser or any(capability in e.capabilities for e in self.entries)

    def entries_with(self, capability: Capability) -> list[ScopeEntry]:
        return [e for e in self.entries if capability in e.capabilities]

    def allows_path(self, capability: Capability, path: str) -> bool:
        if self.is_superuser:
            return True
        return any(path.startswith(e.path) for e in self.entries_with(capability))

    def path_q(self, capability: Capability, field: str) -> Q:
        """A filter keeping rows whose ``field`` (a jurisdiction path) lies in a permitted subtree."""
        if self.is_superuser:
            return Q()
        paths = sorted({e.path for e in self.entries_with(capability)})
        if not paths:
            return Q(pk__in=[])
        q = Q()
        for path in paths:
            q |= Q(**{f"{field}__startswith": path})
        return q

    @property
    def roles(self) -> set[str]:
        return {e.role for e in self.entries}

    def workplaces(self) -> set[Workplace]:
        if self.is_superuser:
            return set(Workplace)
        return {w for e in self.entries for w in WORKPLACES.get(e.role, ())}

    def entries_for(self, workplace: Workplace) -> list[ScopeEntry]:
        """The grants that open ``workplace`` (their paths bound what the screen shows)."""
        return [e for e in self.entries if workplace in WORKPLACES.get(e.role, ())]


_NO_SCOPE = Scope(is_superuser=False, entries=())


def scope_of(user: User | AnonymousUser) -> Scope:
    """The user's scope, computed once per request (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return _NO_SCOPE
    cached: Scope | None = getattr(user, "_civicgrid_scope", None)
    if cached is not None:
        return cached
    return remember_scope(user, _grants_of(user.pk))


def remember_scope(user: User, grants: list[tuple[str, str, int | None]]) -> Scope:
    """The scope from the user's grants ``(role, jurisdiction path, unit id)``, cached on the user object
    for the rest of the request (token authentication reads the grants with the token, in one query)."""
    scope = Scope(
        is_superuser=user.is_superuser,
        entries=tuple(
            ScopeEntry(
                role=role,
                path=path,
                unit_id=unit_id,
                capabilities=ROLE_CAPABILITIES.get(role, frozenset()),
                case_caps=ROLE_CASE_CAPABILITIES.get(role, frozenset()),
            )
            for role, path, unit_id in grants
        ),
    )
    setattr(user, "_civicgrid_scope", scope)  # noqa: B010 — a per-request cache on the user object
    return scope


def grants_sql(user_id: str) -> str:
    """The grants of the user whose id is the SQL expression ``user_id``: (role, path, unit id) rows."""
    from civicgrid.jurisdictions.models import Jurisdiction

    grant = connection.ops.quote_name(RoleGrant._meta.db_table)
    place = connection.ops.quote_name(Jurisdiction._meta.db_table)
    return (
        f"SELECT g.role, j.path, g.unit_id FROM {grant} g JOIN {place} j ON j.id = g.jurisdiction_id "
        f"WHERE g.user_id = {user_id} ORDER BY g.id"
    )


def _grants_of(user_id: int) -> list[tuple[str, str, int | None]]:
    """Hand-written SQL, because every request asks and the ORM spends longer building this query than
    PostgreSQL spends answering it."""
    with sqlrows.cursor() as cursor:
        cursor.execute(grants_sql("%s"), [user_id])
        return [(str(role), str(path), unit_id) for role, path, unit_id in cursor.fetchall()]


def acting_user(request: HttpRequest) -> User:
    """The logged-in staff user of a request that passed login_required / the API's auth."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def forget_scope(user: User) -> None:
    """Drop the cached scope after the user's grants changed."""
    if hasattr(user, "_civicgrid_scope"):
        delattr(user, "_civicgrid_scope")


# --- What a user may see -------------------------------------------------------------------------------


def visible_jurisdictions(user: User | AnonymousUser) -> QuerySet[Jurisdiction]:
    from civicgrid.jurisdictions.models import Jurisdiction

    return Jurisdiction.objects.filter(scope_of(user).path_q(Capability.VIEW_MAP, "path"))


def visible_units(user: User | AnonymousUser) -> QuerySet[Unit]:
    from civicgrid.jurisdictions.models import Unit

    return Unit.objects.filter(scope_of(user).path_q(Capability.VIEW_MAP, "jurisdiction__path"))


def visible_grid_cells(user: User | AnonymousUser) -> QuerySet[GridCell]:
    from civicgrid.grids.models import GridCell

    return GridCell.objects.filter(scope_of(user).path_q(Capability.VIEW_MAP, "community__path"))


def visible_buildings(user: User | AnonymousUser) -> QuerySet[Building]:
    from civicgrid.grids.models import Building

    return Building.objects.filter(scope_of(user).path_q(Capability.VIEW_MAP, "grid_cell__community__path"))


def visible_staff(user: User | AnonymousUser) -> QuerySet[User]:
    scope = scope_of(user)
    if scope.is_superuser:
        return User.objects.all()
    q = Q(pk__in=[])
    for entry in scope.entries_with(Capability.VIEW_STAFF):
        if entry.unit_id is not None:
            q |= Q(grants__unit_id=entry.unit_id)
        else:
            q |= Q(grants__jurisdiction__path__startswith=entry.path)
    return User.objects.filter(pk__in=User.objects.filter(q).values("pk"))


def can_view_personal_data_of(viewer: User | AnonymousUser, subject: User) -> bool:
    """Unmasking a staff member's phone: VIEW_PERSONAL_DATA over a jurisdiction where they hold a grant
    (a unit-scoped grant covers only its unit's staff)."""
    scope = scope_of(viewer)
    if scope.is_superuser:
        return True
    entries = scope.entries_with(Capability.VIEW_PERSONAL_DATA)
    if not entries:
        return False
    for role_path, unit_id in subject.grants.values_list("jurisdiction__path", "unit_id"):
        for entry in entries:
            if entry.unit_id is not None:
                if entry.unit_id == unit_id:
                    return True
            elif role_path.startswith(entry.path):
                return True
    return False


def can_administer_path(user: User | AnonymousUser, path: str) -> bool:
    return scope_of(user).allows_path(Capability.ADMINISTER, path)


def can_administer_installation(user: User | AnonymousUser) -> bool:
    """May change what holds for the whole installation (the smart-routing policy and models): an
    administrator of a top-level jurisdiction (the city), or a superuser — not a district's administrator."""
    scope = scope_of(user)
    return scope.is_superuser or any(
        e.path.count("/") == 1 for e in scope.entries_with(Capability.ADMINISTER)
    )


def can_assess_path(user: User | AnonymousUser, path: str) -> bool:
    """May publish the rankings of assessment schemes of this jurisdiction (leaders and supervisors)."""
    return scope_of(user).allows_path(Capability.ASSESS, path)


def grantable_roles_for(user: User | AnonymousUser) -> list[str]:
    """Administrators may grant any role but only inside their subtree (checked by the action)."""
    return list(Role.values) if scope_of(user).has(Capability.ADMINISTER) else []


# --- Cases ----------------------------------------------------------------------------------------------


def visible_cases(user: User | AnonymousUser) -> QuerySet[Case]:
    """Cases located in, or owned by a level in, the user's subtrees; for unit-bound roles (handlers,
    mediators), the cases their unit was ever assigned; and the cases the user took in."""
    from civicgrid.cases.models import Case

    scope = scope_of(user)
    if scope.is_superuser:
        return Case.objects.all()
    q = Q(pk__in=[])
    paths: set[str] = set()
    units: set[int] = set()
    for entry in scope.entries:
        if entry.role in CASES_BY_UNIT and entry.unit_id is not None:
            units.add(entry.unit_id)
        else:
            paths.add(entry.path)
    for path in sorted(paths):
        q |= Q(origin_path__startswith=path) | Q(level_path__startswith=path)
    if units:
        q |= Q(pk__in=_assigned_case_ids(units))
    if user.is_authenticated:
        q |= Q(created_by_id=user.pk)
    return Case.objects.filter(q)


def _assigned_case_ids(units: set[int]) -> QuerySet[Any]:
    from civicgrid.cases.models import CaseAssignment

    return CaseAssignment.objects.filter(unit_id__in=sorted(units)).values("case_id")


def can_report_at(user: User | AnonymousUser, path: str) -> bool:
    """May take in a case located at ``path`` (or, with no location, owned by that level)."""
    scope = scope_of(user)
    return scope.is_superuser or any(
        Cap.REPORT in e.case_caps and path.startswith(e.path) for e in scope.entries
    )


def case_action_allowed(
    user: User | AnonymousUser,
    case: Case,
    action: Action,
    *,
    assignment: CaseAssignment | None = None,
) -> bool:
    """Whether the user may perform ``action`` on ``case`` (the status is checked by the action itself)."""
    scope = scope_of(user)
    if scope.is_superuser:
        return True
    transition = TRANSITIONS[action]
    for cap, where in transition.by:
        for entry in scope.entries:
            if cap not in entry.case_caps:
                continue
            if where == CaseScope.LEVEL and case.level_path.startswith(entry.path):
                if entry.role in CASES_BY_UNIT:
                    continue  # a unit's handler never acts as a level's desk
                return True
            if where == CaseScope.LOCATION and case.origin_path.startswith(entry.path):
                return True
            if (
                where == CaseScope.LEAD_UNIT
                and entry.unit_id is not None
                and entry.unit_id == case.lead_unit_id
            ):
                return True
            if (
                where == CaseScope.ASSIST_UNIT
                and entry.unit_id is not None
                and assignment is not None
                and entry.unit_id == assignment.unit_id
            ):
                return True
    return False


def case_capabilities_on(user: User | AnonymousUser, case: Case) -> set[Cap]:
    """The case capabilities a user holds over this case (used to offer buttons and unmask phones)."""
    scope = scope_of(user)
    if scope.is_superuser:
        return set(Cap)
    caps: set[Cap] = set()
    for entry in scope.entries:
        if entry.unit_id is not None and entry.role in CASES_BY_UNIT:
            if (
                entry.unit_id == case.lead_unit_id
                or case.assignments.filter(unit_id=entry.unit_id, is_current=True).exists()
            ):
                caps |= entry.case_caps
        elif case.level_path.startswith(entry.path) or case.origin_path.startswith(entry.path):
            caps |= entry.case_caps
    return caps


def can_view_reporter_phone(user: User | AnonymousUser, case: Case) -> bool:
    """Unmasking a resident's phone on a case: a capability that contacts residents, over this case.
    The caller logs each view (cases.actions.do_reveal_reporter_phone)."""
    caps = case_capabilities_on(user, case)
    if case.is_anonymous:
        # Anonymity (e.g. a 举报) hides the resident from the units; the hotline may still call back.
        return bool(caps & {Cap.INTAKE, Cap.REVISIT})
    return bool(caps & CAN_CONTACT_REPORTER)


# --- View decorators -------------------------------------------------------------------------------------

P = ParamSpec("P")


def require_workplace(
    workplace: Workplace,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Log in first (redirect), then 403 unless some grant opens the role screen ``workplace``. What the
    screen then shows or does is still decided by the scoped querysets and the actions."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if workplace not in scope_of(request.user).workplaces():
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def require_any_workplace(
    *workplaces: Workplace,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """As ``require_workplace``, for a helper shared by several screens (the intake suggestions serve the
    hotline desk and the case page alike): 403 unless some grant opens one of ``workplaces``."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not set(workplaces) & scope_of(request.user).workplaces():
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def require_capability(
    capability: Capability,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log in first (redirect), then 403 unless some grant carries the capability."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not scope_of(request.user).has(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
