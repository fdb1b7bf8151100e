"""JSON API for grid cells: GeoJSON for maps and point → cell lookup (scoped by the permission module)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from civicgrid.accounts import permissions
from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import acting_user
from civicgrid.grids.lookup import grid_index
from civicgrid.jurisdictions.api import visible_node

router = Router(tags=["grid cells"])


def cell_features(user: User, path: str) -> list[dict[str, Any]]:
    cells = (
        permissions.visible_grid_cells(user)
        .filter(community__path__startswith=path, is_active=True)
        .select_related("leader", "community")
        .prefetch_related("workers")
        .order_by("code")
    )
    return [
        {
            "type": "Feature",
            "geometry": cell.boundary,
            "properties": {
                "code": cell.code,
                "name": cell.name,
                "community": cell.community.name,
                "households": cell.household_count,
                "area_m2": round(cell.area_m2),
                "leader": cell.leader.display_name if cell.leader else None,
                "workers": [w.display_name for w in cell.workers.all()],
            },
        }
        for cell in cells
    ]


@router.get(
    "/jurisdictions/{code}/grid-cells.geojson", summary="The grid cells under a jurisdiction, as GeoJSON"
)
def grid_cells_geojson(request: HttpRequest, code: str) -> dict[str, Any]:
    node = visible_node(request, code)
    user = acting_user(request)
    return {"type": "FeatureCollection", "features": cell_features(user, node.path)}


class LocateIn(Schema):
    lon: float
    lat: float


class LocateOut(Schema):
    code: str
    name: str
    community_code: str
    community: str


@router.get("/grid-cells/locate", response=LocateOut, summary="The grid cell that covers a point")
def locate(request: HttpRequest, point: Query[LocateIn]) -> dict[str, Any]:
    if not (-180 <= point.lon <= 180 and -90 <= point.lat <= 90):
        raise Http404
    cell_id = grid_index().locate(point.lon, point.lat)
    if cell_id is None:
        raise Http404
    user = acting_user(request)
    cell = permissions.visible_grid_cells(user).select_related("community").filter(pk=cell_id).first()
    if cell is None:
        # Outside every cell, or in a cell outside the user's jurisdiction: the same answer for both.
        raise Http404
    return {
        "code": cell.code,
        "name": cell.name,
        "community_code": cell.community.code,
        "community": cell.community.name,
    }
