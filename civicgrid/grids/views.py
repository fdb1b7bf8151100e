from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from civicgrid.accounts import permissions
from civicgrid.accounts.permissions import Capability, acting_user, require_capability
from civicgrid.jurisdictions.queries import children_with_counts, scope_roots, visible_ancestors


@require_capability(Capability.VIEW_MAP)
def grid_map(request: HttpRequest) -> HttpResponse:
    """The jurisdiction tree beside a Leaflet map of the selected node's areas and grid cells.

    Everything on the page is also in the HTML (tree, units, cell table), so it works without JavaScript
    and without map tiles; the map only draws the same data.
    """
    user = acting_user(request)
    roots = scope_roots(user)
    code = request.GET.get("j")
    if not code:
        if not roots:
            return render(request, "grids/map.html", {"roots": []})
        return redirect(f"{request.path}?j={roots[0].code}")
    node = get_object_or_404(permissions.visible_jurisdictions(user), code=code)
    cells = (
        permissions.visible_grid_cells(user)
        .filter(community__path__startswith=node.path)
        .select_related("community", "leader")
        .prefetch_related("workers")
        .order_by("code")
    )
    context = {
        "roots": roots,
        "node": node,
        "breadcrumbs": visible_ancestors(user, node),
        "children": children_with_counts(node),
        "units": node.units.select_related("unit_type").filter(is_active=True),
        "cell_page": Paginator(cells, 100).get_page(request.GET.get("page")),
        "cell_count": cells.count(),
        "household_total": sum(cells.values_list("household_count", flat=True)),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "grids/map.html", context)


@require_capability(Capability.VIEW_MAP)
def tree_children(request: HttpRequest, code: str) -> HttpResponse:
    """The children of a tree node, loaded by htmx when the node is opened."""
    user = acting_user(request)
    node = get_object_or_404(permissions.visible_jurisdictions(user), code=code)
    return render(
        request, "grids/_tree_children.html", {"node": node, "children": children_with_counts(node)}
    )
