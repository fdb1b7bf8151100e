"""JSON API for the jurisdiction tree (session or token auth; scoped by the permission module)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from civicgrid.accounts import permissions
from civicgrid.accounts.permissions import acting_user
from civicgrid.jurisdictions.models import Jurisdiction

router = Router(tags=["jurisdictions"])


class UnitOut(Schema):
    code: str
    name: str
    unit_type: str


class JurisdictionOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None
    center: list[float] | None
    children: list[dict[str, Any]]
    units: list[UnitOut]


def visible_node(request: HttpRequest, code: str) -> Jurisdiction:
    user = acting_user(request)
    return get_object_or_404(permissions.visible_jurisdictions(user), code=code)


@router.get(
    "/jurisdictions/{code}", response=JurisdictionOut, summary="A jurisdiction with its children and units"
)
def jurisdiction_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    node = visible_node(request, code)
    return {
        "code": node.code,
        "name": node.name,
        "level": node.level,
        "kind": node.kind,
        "parent_code": node.parent.code if node.parent_id and node.parent else None,
        "center": [node.center_lon, node.center_lat] if node.center_lon is not None else None,
        "children": [
            {"code": c.code, "name": c.name, "level": c.level, "kind": c.kind}
            for c in node.children.order_by("code")
        ],
        "units": [
            {"code": u.code, "name": u.name, "unit_type": u.unit_type.name}
            for u in node.units.select_related("unit_type").filter(is_active=True)
        ],
    }


@router.get(
    "/jurisdictions/{code}/boundaries.geojson", summary="The boundary of a jurisdiction and of its children"
)
def jurisdiction_boundaries(request: HttpRequest, code: str) -> dict[str, Any]:
    node = visible_node(request, code)
    features = []
    for item in [node, *node.children.order_by("code")]:
        if item.boundary:
            features.append(
                {
                    "type": "Feature",
                    "geometry": item.boundary,
                    "properties": {
                        "code": item.code,
                        "name": item.name,
                        "level": item.level,
                        "role": "self" if item.pk == node.pk else "child",
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}
