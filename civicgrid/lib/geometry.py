"""Geometry helpers on shapely 2 (ORM-free): GeoJSON in and out, areas in square metres, partitions.

Geometries are stored as GeoJSON in lon/lat (the shared boundaries are Aliyun DataV, probably GCJ-02; we
keep whatever datum the source has and convert at the edges). Areas and tolerances are computed in a local
equirectangular projection around the geometry, accurate to well under 1 % at district scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

# Metres per degree of latitude, and per degree of longitude at the equator (WGS84 mean values).
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQ = 111_320.0
AREAL_TYPES = ("Polygon", "MultiPolygon")
# Coordinates are kept to 1e-7° (about 1 cm), so neighbours that share a cut share exact vertices.
GRID_SIZE = 1e-7


def from_geojson(geometry: dict[str, Any]) -> BaseGeometry:
    return shape(geometry)


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    # mapping() gives nested tuples; JSON columns want lists.
    result: dict[str, Any] = _listify(mapping(geom))
    return result


def _listify(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_listify(item) for item in value]
    if isinstance(value, dict):
        return {key: _listify(item) for key, item in value.items()}
    return value


class LocalProjection:
    """Equirectangular projection to metres around a reference latitude/longitude."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0 = lon0
        self.lat0 = lat0
        self.kx = M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
        self.ky = M_PER_DEG_LAT

    @classmethod
    def around(cls, geom: BaseGeometry) -> LocalProjection:
        c = geom.centroid if not geom.is_empty else shapely.Point(0, 0)
        return cls(c.x, c.y)

    def forward(self, geom: BaseGeometry) -> BaseGeometry:
        lon0, lat0, kx, ky = self.lon0, self.lat0, self.kx, self.ky
        return shapely.transform(
            geom, lambda xy: np.column_stack(((xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * ky))
        )

    def inverse(self, geom: BaseGeometry) -> BaseGeometry:
        lon0, lat0, kx, ky = self.lon0, self.lat0, self.kx, self.ky
        return shapely.transform(
            geom, lambda xy: np.column_stack((xy[:, 0] / kx + lon0, xy[:, 1] / ky + lat0))
        )


def area_m2(geom: BaseGeometry, projection: LocalProjection | None = None) -> float:
    proj = projection or LocalProjection.around(geom)
    return float(proj.forward(geom).area)


def polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    """The areal part of a geometry (drops slivers that degenerated into lines or points)."""
    if geom.geom_type in AREAL_TYPES:
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in AREAL_TYPES]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def bbox_and_center(geom: BaseGeometry) -> dict[str, float]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    point = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
    return {
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "center_lon": round(point.x, 7),
        "center_lat": round(point.y, 7),
    }


def partition(geom: BaseGeometry, weights: Sequence[float]) -> list[BaseGeometry]:
    """Split an area into len(weights) parts with areas proportional to the weights.

    Recursive bisection: the weights are halved in order, and the area is cut across its longer side so
    that each half gets its share (the cut is found by bisection search). The first part lies north (for
    a north–south cut) or west (for a west–east cut), so parts come out roughly north→south, west→east in
    the order given. Deterministic: the same input always gives the same output. The parts cover the
    input exactly, without overlaps, at the GRID_SIZE precision.
    """
    if not weights:
        return []
    if any(w <= 0 for w in weights):
        raise ValueError("partition weights must be positive")
    proj = LocalProjection.around(geom)
    metric = proj.forward(snap(geom))
    pieces = _bisect(metric, list(weights))
    return [shapely.set_precision(polygonal_part(proj.inverse(p)), GRID_SIZE) for p in pieces]


def _bisect(geom: BaseGeometry, weights: list[float]) -> list[BaseGeometry]:
    if len(weights) == 1:
        return [geom]
    k = len(weights) // 2
    share = sum(weights[:k]) / sum(weights)
    minx, miny, maxx, maxy = geom.bounds
    total = geom.area
    pad = 1.0
    if (maxy - miny) >= (maxx - minx):
        # North part first: find y such that the part above y holds `share` of the area.
        lo, hi = miny, maxy
        for _ in range(60):
            mid = (lo + hi) / 2
            above = shapely.clip_by_rect(geom, minx - pad, mid, maxx + pad, maxy + pad).area
            if above > share * total:
                lo = mid
            else:
                hi = mid
        cut = (lo + hi) / 2
        first = shapely.clip_by_rect(geom, minx - pad, cut, maxx + pad, maxy + pad)
        second = shapely.clip_by_rect(geom, minx - pad, miny - pad, maxx + pad, cut)
    else:
        lo, hi = minx, maxx
        for _ in range(60):
            mid = (lo + hi) / 2
            left = shapely.clip_by_rect(geom, minx - pad, miny - pad, mid, maxy + pad).area
            if left < share * total:
                lo = mid
            else:
                hi = mid
        cut = (lo + hi) / 2
        first = shapely.clip_by_rect(geom, minx - pad, miny - pad, cut, maxy + pad)
        second = shapely.clip_by_rect(geom, cut, miny - pad, maxx + pad, maxy + pad)
    return _bisect(polygonal_part(first), weights[:k]) + _bisect(polygonal_part(second), weights[k:])


def snap(geom: BaseGeometry) -> BaseGeometry:
    """Round coordinates to GRID_SIZE; store a parent snapped so that its partition covers it exactly."""
    return polygonal_part(shapely.set_precision(geom, GRID_SIZE))


def explain_invalid(geom: BaseGeometry) -> str:
    """Why a geometry is invalid, in GEOS's words (e.g. 'Self-intersection[113.0 28.1]')."""
    return str(shapely.is_valid_reason(geom))
