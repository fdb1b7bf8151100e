"""What the service window shows and where a clerk may register: scoped reads built on the permission module.

Rules (candidates for civicgrid.accounts.permissions):
- A visit is visible to a user whose grants that open the WINDOW screen cover its service centre: a unit
  grant covers its own unit, a jurisdiction grant every centre in that subtree. Superusers see all.
- A clerk registers visits at the unit of a WINDOW grant (the counter they sit at); a jurisdiction-wide
  WINDOW grant may register at the centres of its subtree, i.e. the units that have centre details
  (ServiceCenterProfile). Superusers may register at any of those and at any unit a clerk works at.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from civicgrid.accounts.models import Role, RoleGrant, User
from civicgrid.accounts.permissions import ScopeEntry, Workplace, scope_of, visible_units
from civicgrid.jurisdictions.models import Unit
from civicgrid.services.models import ServiceCenterProfile, WindowVisit


def window_entries(user: User | AnonymousUser) -> list[ScopeEntry]:
    """The user's grants that open the service window."""
    return scope_of(user).entries_for(Workplace.WINDOW)


def _center_q(entries: list[ScopeEntry], field: str) -> Q:
    """Rows whose ``field`` (a unit) is one the entries cover."""
    q = Q(pk__in=[])
    for entry in entries:
        if entry.unit_id is not None:
            q |= Q(**{f"{field}_id": entry.unit_id})
        else:
            q |= Q(**{f"{field}__jurisdiction__path__startswith": entry.path})
    return q


def visible_visits(user: User | AnonymousUser) -> QuerySet[WindowVisit]:
    """Visits registered at a service centre within the user's WINDOW grants (404 for anything else)."""
    if scope_of(user).is_superuser:
        return WindowVisit.objects.all()
    return WindowVisit.objects.filter(_center_q(window_entries(user), "service_center"))


def service_centers_for(user: User | AnonymousUser) -> QuerySet[Unit]:
    """The active units where the user may register a visit (see the module docstring), within
    visible_units so that nothing outside the user's geography can be named."""
    scope = scope_of(user)
    profiled = ServiceCenterProfile.objects.values("unit_id")
    if scope.is_superuser:
        clerk_units = RoleGrant.objects.filter(role=Role.WINDOW_CLERK, unit__isnull=False).values("unit_id")
        q = Q(pk__in=profiled) | Q(pk__in=clerk_units)
    else:
        q = Q(pk__in=[])
        for entry in window_entries(user):
            if entry.unit_id is not None:
                q |= Q(pk=entry.unit_id)
            else:
                q |= Q(pk__in=profiled, jurisdiction__path__startswith=entry.path)
    return (
        visible_units(user)
        .filter(q, is_active=True)
        .select_related("jurisdiction", "service_profile")
        .order_by("jurisdiction__path", "sort_order", "code")
    )
