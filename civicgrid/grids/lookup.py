"""Point → grid cell lookup: an STRtree over every active cell, built once per process and rebuilt when
the cells change, queried in bulk with shapely's vectorised predicates.

A point on the shared edge of two cells belongs to the cell with the lower code (deterministic).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.db.models import Count, Max
from numpy.typing import NDArray

from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib.geometry import from_geojson


@dataclass(frozen=True)
class GridIndex:
    ids: NDArray[np.int64]  # GridCell primary keys, ordered by code
    codes: list[str]
    tree: shapely.STRtree
    version: tuple[object, ...]
    #: The cells (with their community) and every jurisdiction on their communities' paths, by path: what
    #: taking a case in needs, loaded with the index so an intake reads none of it from the database.
    #: Shared between requests and threads: read them, never change them.
    cells: dict[int, GridCell] = field(default_factory=dict)
    places: dict[str, Jurisdiction] = field(default_factory=dict)

    @classmethod
    def build(
        cls, cells: list[tuple[int, str, dict[str, object]]], version: tuple[object, ...] = ()
    ) -> GridIndex:
        ordered = sorted(cells, key=lambda c: c[1])
        geoms = [from_geojson(boundary) for _, _, boundary in ordered]
        shapely.prepare(geoms)
        return cls(
            ids=np.array([pk for pk, _, _ in ordered], dtype=np.int64),
            codes=[code for _, code, _ in ordered],
            tree=shapely.STRtree(geoms),
            version=version,
        )

    def locate_many(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.int64]:
        """Cell id per point, -1 where no cell covers it."""
        points = shapely.points(np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64))
        result = np.full(len(points), -1, dtype=np.int64)
        if len(self.ids) == 0 or len(points) == 0:
            return result
        point_idx, cell_idx = self.tree.query(points, predicate="intersects")
        if len(point_idx):
            # Several hits for a point on an edge: keep the lowest cell index (= lowest code).
            order = np.lexsort((cell_idx, point_idx))
            point_idx, cell_idx = point_idx[order], cell_idx[order]
            first = np.ones(len(point_idx), dtype=bool)
            first[1:] = point_idx[1:] != point_idx[:-1]
            result[point_idx[first]] = self.ids[cell_idx[first]]
        return result

    def locate(self, lon: float, lat: float) -> int | None:
        """One point (every intake): the same answer as locate_many, without its array bookkeeping."""
        if len(self.ids) == 0:
            return None
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        # Several hits for a point on an edge: the lowest cell index (= lowest code), as locate_many.
        return int(self.ids[int(hits.min())]) if len(hits) else None


_lock = threading.Lock()
_current: GridIndex | None = None
_checked_at = 0.0


def _version() -> tuple[object, ...]:
    # One aggregate on an indexed column tells whether any cell changed since the index was built.
    agg = GridCell.objects.filter(is_active=True).aggregate(n=Count("id"), last=Max("updated_at"))
    return (agg["n"], agg["last"])


def grid_index() -> GridIndex:
    """The index of the active cells; their version is asked (one aggregate) at most once per
    CACHE_RECHECK_SECONDS per process — the import action resets the index on commit at once."""
    global _current, _checked_at
    index = _current
    if index is not None and time.monotonic() - _checked_at < settings.CACHE_RECHECK_SECONDS:
        return index
    version = _version()
    _checked_at = time.monotonic()
    if index is not None and index.version == version:
        return index
    with _lock:
        if _current is None or _current.version != version:
            _current = _build(version)
        return _current


def _build(version: tuple[object, ...]) -> GridIndex:
    cells = list(GridCell.objects.filter(is_active=True).select_related("community"))
    codes = {code for cell in cells for code in cell.community.path.split("/") if code}
    places = {j.path: j for j in Jurisdiction.objects.filter(code__in=sorted(codes))}
    for cell in cells:  # the same objects as ``places``: one copy of each jurisdiction
        cell.community = places.get(cell.community.path, cell.community)
    index = GridIndex.build([(c.pk, c.code, c.boundary) for c in cells], version)
    return GridIndex(
        ids=index.ids,
        codes=index.codes,
        tree=index.tree,
        version=version,
        cells={c.pk: c for c in cells},
        places=places,
    )


def locate_grid_cell(lon: float, lat: float) -> GridCell | None:
    """The active grid cell covering a point (with its community loaded), or None. The object is the
    index's own, shared: read it, never change it."""
    index = grid_index()
    cell_id = index.locate(lon, lat)
    if cell_id is None:
        return None
    cell = index.cells.get(cell_id)
    return cell if cell is not None else GridCell.objects.select_related("community").get(pk=cell_id)


def place_at(path: str) -> Jurisdiction | None:
    """The jurisdiction at ``path`` if it lies on a grid cell's community path (no query), else None."""
    return grid_index().places.get(path)


def reset_grid_index() -> None:
    global _current
    with _lock:
        _current = None
