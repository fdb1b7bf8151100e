"""The overview map's data: the node's outline, a square-binned density of its open cases ("heat", counted
server-side over *all* of them) and the newest open cases as points, overdue ones flagged.

No heat-map plugin ships offline with the xstatic packages, so the density is a grid of squares of equal
ground size (≈ 1/20 of the area's longer side) coloured by how many open cases fall in each. The points are
capped at POINT_LIMIT (the newest first) and the answer says how many were left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper
from django.urls import reverse
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.cases.workflow import Status
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.overview import links
from civicgrid.overview.queries import area_cases, is_open, is_overdue

POINT_LIMIT = 2000
BINS_ACROSS = 20
METRES_PER_DEGREE = 111_320
# Light to dark (ColorBrewer "YlOrBr"), away from the points' blue (open) and red (overdue).
PALETTE = ("#ffffd4", "#fed98e", "#fe9929", "#d95f0e", "#993404")


Box = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


def node_box(node: Jurisdiction) -> Box | None:
    """The node's bounding box (None when it has no boundary)."""
    if None in (node.min_lon, node.min_lat, node.max_lon, node.max_lat):
        return None
    return node.min_lon, node.min_lat, node.max_lon, node.max_lat  # type: ignore[return-value]


def _bbox(node: Jurisdiction, points: list[tuple[float, float]]) -> Box | None:
    box = node_box(node)
    if box is not None:
        return box
    if not points:
        return None
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def class_breaks(top: int) -> list[int]:
    """Upper bounds of up to five classes covering 1…top (fewer when top < 5: one class per count)."""
    return sorted({max(1, math.ceil(top * k / len(PALETTE))) for k in range(1, len(PALETTE) + 1)})


@dataclass(frozen=True)
class Squares:
    """Squares of equal ground size (≈ 1/BINS_ACROSS of the box's longer side: the longitude step grows
    with 1/cos of the latitude), anchored at the box's south-west corner. Square (ix, iy) spans
    ``min_lon + ix × size_lon`` … and ``min_lat + iy × size_lat`` …; the statistics map counts its points
    per square in SQL with the same arithmetic."""

    min_lon: float
    min_lat: float
    size_lon: float
    size_lat: float

    @classmethod
    def over(cls, box: Box) -> Squares:
        min_lon, min_lat, max_lon, max_lat = box
        k = math.cos(math.radians((min_lat + max_lat) / 2))
        size_lat = max((max_lon - min_lon) * k, max_lat - min_lat) / BINS_ACROSS or 0.001
        return cls(min_lon, min_lat, size_lat / k, size_lat)

    def key(self, lon: float, lat: float) -> tuple[int, int]:
        return math.floor((lon - self.min_lon) / self.size_lon), math.floor(
            (lat - self.min_lat) / self.size_lat
        )

    def layer(self, counts: dict[tuple[int, int], int]) -> dict[str, Any]:
        """The squares that hold something, coloured in up to five classes, with their legend."""
        counts = {key: n for key, n in counts.items() if n}
        if not counts:
            return {"features": [], "legend": [], "size_m": 0}
        breaks = class_breaks(max(counts.values()))
        colours = PALETTE[len(PALETTE) - len(breaks) :]  # few classes: the darker end of the palette
        features = []
        for (ix, iy), n in sorted(counts.items()):
            x0, y0 = self.min_lon + ix * self.size_lon, self.min_lat + iy * self.size_lat
            x1, y1 = x0 + self.size_lon, y0 + self.size_lat
            level = next(i for i, top in enumerate(breaks) if n <= top)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
                    },
                    "properties": {"count": n, "colour": colours[level]},
                }
            )
        legend = [
            {"from": (breaks[i - 1] + 1) if i else 1, "to": top, "colour": colours[i]}
            for i, top in enumerate(breaks)
        ]
        return {"features": features, "legend": legend, "size_m": round(self.size_lat * METRES_PER_DEGREE)}


def heat_squares(node: Jurisdiction, points: list[tuple[float, float]]) -> dict[str, Any]:
    """Count the points per square (``Squares`` over the node's box, or the points' when it has none)."""
    box = _bbox(node, points)
    if box is None or not points:
        return {"features": [], "legend": [], "size_m": 0}
    squares = Squares.over(box)
    counts: dict[tuple[int, int], int] = {}
    for lon, lat in points:
        key = squares.key(lon, lat)
        counts[key] = counts.get(key, 0) + 1
    return squares.layer(counts)


def _local(at: datetime | None) -> str | None:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else None


def empty() -> dict[str, Any]:
    """The answer for a user who sees no jurisdiction at all."""
    return {
        "type": "FeatureCollection",
        "features": [],
        "area": None,
        "heat": {"type": "FeatureCollection", "features": []},
        "legend": [],
        "square_m": 0,
        "open_located": 0,
        "shown": 0,
        "limit": POINT_LIMIT,
        "overdue_shown": 0,
    }


def map_data(user: User, node: Jurisdiction, now: datetime) -> dict[str, Any]:
    located = area_cases(user, node).filter(is_open(), lon__isnull=False, lat__isnull=False)
    base = reverse("cases:queues")  # once, not per point
    everywhere = [
        (lon, lat) for lon, lat in located.values_list("lon", "lat") if lon is not None and lat is not None
    ]
    newest = (
        located.annotate(late=ExpressionWrapper(is_overdue(now), output_field=BooleanField()))
        .order_by("-received_at", "-pk")
        .values("number", "title", "status", "lon", "lat", "late", "due_at")[:POINT_LIMIT]
    )
    points: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {
                "number": r["number"],
                "title": r["title"],
                "status": str(Status(r["status"]).label),
                "overdue": bool(r["late"]),
                "due": _local(r["due_at"]),
                "url": links.case_page(r["number"], base),
            },
        }
        for r in newest
    ]
    heat = heat_squares(node, everywhere)
    return {
        "type": "FeatureCollection",
        "features": points,
        "area": {
            "type": "Feature",
            "geometry": node.boundary,
            "properties": {"code": node.code, "name": node.name},
        }
        if node.boundary
        else None,
        "heat": {"type": "FeatureCollection", "features": heat["features"]},
        "legend": heat["legend"],
        "square_m": heat["size_m"],
        "open_located": len(everywhere),
        "shown": len(points),
        "limit": POINT_LIMIT,
        "overdue_shown": sum(1 for p in points if p["properties"]["overdue"]),
    }
