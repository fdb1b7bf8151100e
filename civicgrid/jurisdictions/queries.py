"""Read helpers for the jurisdiction tree, always starting from what the user may see."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from civicgrid.accounts import permissions
from civicgrid.accounts.models import User
from civicgrid.jurisdictions.models import Jurisdiction


def scope_roots(user: User) -> list[Jurisdiction]:
    """The highest visible nodes: the user's entry points into the tree."""
    visible = permissions.visible_jurisdictions(user)
    if permissions.scope_of(user).is_superuser:
        return list(visible.filter(parent__isnull=True))
    paths = sorted({e.path for e in permissions.scope_of(user).entries_with(permissions.Capability.VIEW_MAP)})
    # Drop paths nested in another granted path: the outer one already covers them.
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    return list(visible.filter(path__in=tops))


def children_with_counts(node: Jurisdiction) -> QuerySet[Jurisdiction]:
    return node.children.annotate(
        n_children=Count("children", distinct=True), n_cells=Count("grid_cells", distinct=True)
    )


def visible_ancestors(user: User, node: Jurisdiction) -> list[Jurisdiction]:
    """Breadcrumbs: the ancestors the user may see, then the node."""
    return list(node.ancestors_and_self().filter(pk__in=permissions.visible_jurisdictions(user).values("pk")))
