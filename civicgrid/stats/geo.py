"""The statistics map of an area and a period: a by-grid choropleth of one figure, and a heat layer of where
the period's requests came from (docs/statistics.md, "Map").

- **Figures per cell** come from the rollups: ``figures.breakdown(node, period, today, Dim.GRID)`` is one
  query over the monthly rows for whole months (the fact scan for an odd run of days), whatever the number
  of cells — never a query per cell. The cells drawn are the area's own (under the node's path; active,
  or holding figures of the period); a case counts in a cell by its fact's grid cell, as the case list's
  ``grid`` filter selects it, so each cell's links open exactly its cases.
- **Classes**: counts by quantiles of the cells that have any (0 is a class of its own), up to five;
  rates in fixed steps (below 60 %, 60–80, 80–90, 90–95, 95 % and above), so months and areas compare. A
  rate whose denominator is 0 is *no data* (grey, dashed), never 0 %. Palettes are ColorBrewer sequential
  schemes (colour-blind safe), light to dark, and every class has a text label.
- **Boundaries** are simplified to about a pixel of a 1,000-pixel map that shows the whole area (the
  tolerance is a power of two of degrees, so areas of similar size share shapes), rounded to match, and
  kept per cell, ``updated_at`` and tolerance in a bounded in-process cache: a warm answer reads no
  boundary from the database.
- **Heat**: the requests received in the period in the area that have a location (the user's visible
  cases, as the case list counts them), counted per square *in SQL* with the overview's ``Squares`` —
  never sent as points, whatever the size of the area.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, F, FloatField, Max, Min, QuerySet, Value
from django.db.models.functions import Floor
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from shapely.geometry import mapping, shape

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_grid_cells
from civicgrid.cases.models import Case
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.overview.geo import PALETTE as COUNT_PALETTE
from civicgrid.overview.geo import Box, Squares, node_box
from civicgrid.overview.queries import area_cases, midnight
from civicgrid.stats import figures
from civicgrid.stats.definitions import COUNTER, RATE, Dim
from civicgrid.stats.figures import Counts, Period
from civicgrid.stats.links import Links

# ColorBrewer "YlGnBu" (5 classes), light to dark: higher rates darker. Counts use the overview's "YlOrBr".
RATE_PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
ZERO_COLOUR = "#ffffff"  # a count of 0 is data: white, unlike "no data"
NO_DATA_COLOUR = "#bdbdbd"
RATE_STEPS = (60, 80, 90, 95)  # per cent: the lower bounds of the classes above the first
PIXELS_ACROSS = 1000  # the map width the simplification aims at
CELL = "__cell__"  # stands for a cell's code in the link templates (urlencode leaves it alone)
SHAPE_CACHE_SIZE = 20_000  # simplified cells kept per process (a city of 5,000 cells at four tolerances)
TOP = 10  # rows of the text alternative


@dataclass(frozen=True)
class MapFigure:
    """A figure the map can colour the cells by: a sum of counters, or a rate (numerator / denominator)."""

    code: str
    label: Promise
    counters: tuple[str, ...] = ()  # a count: the sum of these
    rate: str | None = None  # or a rate of definitions.RATES

    @property
    def is_rate(self) -> bool:
        return self.rate is not None

    @property
    def parts(self) -> tuple[str, ...]:
        """The counters summed into the count, or into the rate's numerator."""
        return RATE[self.rate].numerator if self.rate else self.counters

    @property
    def denominator(self) -> str | None:
        return RATE[self.rate].denominator if self.rate else None

    def total(self, counts: Mapping[str, int]) -> int:
        """The count, or the rate's numerator (its parts weighted 1, as on the dashboard)."""
        return sum(counts[c] for c in self.parts)

    def base(self, counts: Mapping[str, int]) -> int:
        """The rate's denominator (0: no rate); 1 for a count."""
        return counts[self.denominator] if self.denominator else 1


FIGURES: tuple[MapFigure, ...] = (
    MapFigure("received", COUNTER["received"].label, counters=("received",)),  # 受理数
    # 超期: the cases of the period that missed a stage deadline, open or closed since.
    MapFigure("overdue", _("overdue, open or closed"), counters=("overdue_open", "overdue_closed")),
    MapFigure("overdue_open", COUNTER["overdue_open"].label, counters=("overdue_open",)),  # 超期未结
    MapFigure("close_rate", RATE["close_rate"].label, rate="close_rate"),  # 结案率
    MapFigure("on_time_close_rate", RATE["on_time_close_rate"].label, rate="on_time_close_rate"),
    MapFigure("satisfaction_rate", RATE["satisfaction_rate"].label, rate="satisfaction_rate"),  # 满意率
)
FIGURE = {f.code: f for f in FIGURES}
# The counters each cell carries: every part and denominator of the figures above, in a fixed order.
SENT: tuple[str, ...] = tuple(
    dict.fromkeys(c for f in FIGURES for c in (*f.parts, *([f.denominator] if f.denominator else [])))
)


def figure_of(code: str | None) -> MapFigure:
    """The figure asked for in the address (``fig``); the first one when absent or unknown."""
    return FIGURE.get(code or "", FIGURES[0])


# --- Cells and their figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    pk: int
    code: str
    name: str
    community: str
    updated_at: datetime
    counts: Counts  # the SENT counters of the period


def area_cells(user: User, node: Jurisdiction, period: Period, today: date) -> list[Cell]:
    """The area's grid cells, in code order, with their counts for the period (from the rollups)."""
    grid = figures.breakdown(node, period, today, Dim.GRID)
    rows = (
        visible_grid_cells(user)
        .filter(community__path__startswith=node.path)
        .order_by("code")
        .values_list("pk", "code", "name", "community__name", "updated_at", "is_active")
    )
    zero = dict.fromkeys(SENT, 0)
    return [
        Cell(
            pk,
            code,
            name,
            community,
            updated_at,
            {c: grid[str(pk)][c] for c in SENT} if str(pk) in grid else zero,
        )
        for pk, code, name, community, updated_at, active in rows
        if active or str(pk) in grid  # a retired cell stays on the map while it has figures
    ]


@dataclass(frozen=True)
class MapClass:
    label: str
    colour: str


@dataclass(frozen=True)
class Classes:
    """The legend of a figure over some cells, and each cell's class (None: no data)."""

    legend: list[MapClass]
    of_cell: list[int | None]


def _range_label(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def count_bounds(values: Iterable[int]) -> list[int]:
    """Upper bounds of up to five quantile classes of the positive values (each class takes about a fifth
    of the cells that have any; equal values never straddle two classes)."""
    positive = sorted(v for v in values if v > 0)
    n = len(positive)
    if not n:
        return []
    return sorted(
        {positive[math.ceil(n * k / len(COUNT_PALETTE)) - 1] for k in range(1, len(COUNT_PALETTE) + 1)}
    )


def classes(figure: MapFigure, cells: list[Cell]) -> Classes:
    if figure.is_rate:
        return _rate_classes([(figure.total(c.counts), figure.base(c.counts)) for c in cells])
    return _count_classes([figure.total(c.counts) for c in cells])


def _rate_classes(ratios: list[tuple[int, int]]) -> Classes:
    # Fixed steps, compared exactly in integers (a city has thousands of cells: no Fractions here): the class
    # is the number of steps the rate reaches.
    bounds = (0, *RATE_STEPS, 100)
    legend = [
        MapClass(
            gettext("below %(n)s%%") % {"n": high}
            if i == 0
            else gettext("%(n)s%% and above") % {"n": low}
            if i == len(RATE_STEPS)
            else f"{low}–{high}%",
            RATE_PALETTE[i],
        )
        for i, (low, high) in enumerate(pairwise(bounds))
    ]
    of_cell = [
        sum(1 for step in RATE_STEPS if 100 * numerator >= step * denominator) if denominator else None
        for numerator, denominator in ratios
    ]
    if None in of_cell:
        legend.append(MapClass(gettext("no data"), NO_DATA_COLOUR))
    return Classes(legend, of_cell)


def _count_classes(counts: list[int]) -> Classes:
    bounds = count_bounds(counts)
    colours = COUNT_PALETTE[len(COUNT_PALETTE) - len(bounds) :]  # few classes: the darker end
    legend = [MapClass("0", ZERO_COLOUR)] if 0 in counts else []
    first = len(legend)
    legend += [
        MapClass(_range_label(bounds[i - 1] + 1 if i else 1, top), colours[i]) for i, top in enumerate(bounds)
    ]
    of_cell: list[int | None] = [
        0 if v == 0 else first + next(i for i, top in enumerate(bounds) if v <= top) for v in counts
    ]
    return Classes(legend, of_cell)


# --- The text alternative: the top cells of each figure ----------------------------------------------------


@dataclass(frozen=True)
class Part:
    label: Promise
    n: int
    url: str | None


@dataclass(frozen=True)
class TopRow:
    cell: Cell
    value: int | Fraction | None
    parts: list[Part]  # the summed counters (a count) or the numerator's (a rate)
    denominator: Part | None


@dataclass(frozen=True)
class TopTable:
    figure: MapFigure
    rows: list[TopRow]
    selected: bool


def top_tables(cells: list[Cell], links: Links, selected: MapFigure) -> list[TopTable]:
    """For each figure, the TOP cells: the most cases first for counts, the worst rates first (cells without
    a denominator left out), ties by more cases, then by code."""
    out = []
    for figure in FIGURES:
        scored = [(figure.total(c.counts), figure.base(c.counts), c) for c in cells]
        if figure.is_rate:
            # Worst first: the lowest rate, or the highest of a rate where lower is better (returns …). Floats
            # order these ratios of small integers exactly; the rows shown get the exact value.
            sign = -1 if figure.rate and RATE[figure.rate].lower_is_better else 1
            ranked = sorted(
                ((n, d, c) for n, d, c in scored if d), key=lambda x: (sign * x[0] / x[1], -x[1], x[2].code)
            )
        else:
            ranked = sorted(((n, d, c) for n, d, c in scored if n), key=lambda x: (-x[0], x[2].code))
        rows = [
            TopRow(
                cell,
                Fraction(n, d) if figure.is_rate else n,
                [_part(links, code, cell) for code in figure.parts],
                _part(links, figure.denominator, cell) if figure.denominator else None,
            )
            for n, d, cell in ranked[:TOP]
        ]
        out.append(TopTable(figure, rows, figure is selected))
    return out


def _part(links: Links, counter: str, cell: Cell) -> Part:
    return Part(COUNTER[counter].label, cell.counts[counter], links.within(counter, Dim.GRID, cell.code))


# --- Boundaries ---------------------------------------------------------------------------------------------


def tolerance_for(box: Box) -> float:
    """About one pixel when the whole area fills a map PIXELS_ACROSS wide, as a power of two of degrees."""
    min_lon, min_lat, max_lon, max_lat = box
    k = math.cos(math.radians((min_lat + max_lat) / 2))
    extent = max((max_lon - min_lon) * k, max_lat - min_lat, 1e-4)
    return float(2 ** math.floor(math.log2(extent / PIXELS_ACROSS)))


def digits_for(tolerance: float) -> int:
    """Decimals that keep the rounding well under the tolerance (5 decimals ≈ 1 m)."""
    return max(4, min(7, math.ceil(-math.log10(tolerance)) + 1))


def _rounded(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, tuple | list):
        return [_rounded(v, digits) for v in value]
    return value


def simplified(geometries: Iterable[dict[str, Any]], tolerance: float) -> list[dict[str, Any]]:
    """GeoJSON geometries simplified (topology kept: a cell never collapses) and rounded."""
    shapes = [shape(g) for g in geometries]
    if not shapes:
        return []
    digits = digits_for(tolerance)
    out = shapely.simplify(np.array(shapes, dtype=object), tolerance, preserve_topology=True)
    return [{"type": g.geom_type, "coordinates": _rounded(mapping(g)["coordinates"], digits)} for g in out]


_shapes: OrderedDict[tuple[int, datetime, float], dict[str, Any]] = OrderedDict()
_shapes_lock = threading.Lock()


def cell_shapes(cells: list[Cell], tolerance: float) -> list[dict[str, Any]]:
    """The cells' simplified boundaries, from the cache; the missing ones read and simplified at once."""
    keys = [(c.pk, c.updated_at, tolerance) for c in cells]
    with _shapes_lock:
        found = {key: _shapes[key] for key in keys if key in _shapes}
        for key in found:
            _shapes.move_to_end(key)
    missing = [key for key in keys if key not in found]
    if missing:
        from civicgrid.grids.models import GridCell

        boundaries: dict[int, dict[str, Any]] = {}
        ids = [pk for pk, _, _ in missing]
        for start in range(0, len(ids), 2000):  # bounded IN lists (SQLite's parameter limit)
            boundaries.update(
                GridCell.objects.filter(pk__in=ids[start : start + 2000]).values_list("pk", "boundary")
            )
        made = dict(
            zip(missing, simplified((boundaries[pk] for pk, _, _ in missing), tolerance), strict=True)
        )
        found.update(made)
        with _shapes_lock:
            _shapes.update(made)
            while len(_shapes) > SHAPE_CACHE_SIZE:
                _shapes.popitem(last=False)
    return [found[key] for key in keys]


def forget_shapes() -> None:
    with _shapes_lock:
        _shapes.clear()


# --- Heat ---------------------------------------------------------------------------------------------------


def received_located(user: User, node: Jurisdiction, period: Period) -> QuerySet[Case]:
    """The user's cases of the area received in the period that have a location (Asia/Shanghai days)."""
    return area_cases(user, node).filter(
        received_at__gte=midnight(period.first),
        received_at__lt=midnight(period.last + timedelta(days=1)),
        lon__isnull=False,
        lat__isnull=False,
    )


def heat(user: User, node: Jurisdiction, period: Period) -> dict[str, Any]:
    """The period's located requests per square: one GROUP BY, never the points themselves."""
    located = received_located(user, node, period)
    box = node_box(node)
    if box is None:  # an area without a boundary: the squares span its requests
        agg = located.aggregate(a=Min("lon"), b=Min("lat"), c=Max("lon"), d=Max("lat"))
        if agg["a"] is None:
            return {"type": "FeatureCollection", "features": [], "legend": [], "square_m": 0, "located": 0}
        box = (agg["a"], agg["b"], agg["c"], agg["d"])
    squares = Squares.over(box)

    def index(column: str, origin: float, size: float) -> Floor:
        return Floor((F(column) - Value(origin, FloatField())) / Value(size, FloatField()))

    rows = (
        located.annotate(
            ix=index("lon", squares.min_lon, squares.size_lon),
            iy=index("lat", squares.min_lat, squares.size_lat),
        )
        .values("ix", "iy")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(int(r["ix"]), int(r["iy"])): r["n"] for r in rows}
    layer = squares.layer(counts)
    return {
        "type": "FeatureCollection",
        "features": layer["features"],
        "legend": layer["legend"],
        "square_m": layer["size_m"],
        "located": sum(counts.values()),
    }


# --- The answer of /stats/map.json ----------------------------------------------------------------------------


def map_data(user: User, node: Jurisdiction, period: Period, today: date) -> dict[str, Any]:
    cells = area_cells(user, node, period, today)
    box = node_box(node)
    if box is None and cells:  # an area without a boundary: the extent of its cells
        agg = (
            visible_grid_cells(user)
            .filter(community__path__startswith=node.path)
            .aggregate(a=Min("min_lon"), b=Min("min_lat"), c=Max("max_lon"), d=Max("max_lat"))
        )
        box = (agg["a"], agg["b"], agg["c"], agg["d"])
    tolerance = tolerance_for(box) if box else 1e-4
    shapes = cell_shapes(cells, tolerance)
    per_figure = [classes(f, cells) for f in FIGURES]
    links = Links(node, period)
    features = [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "code": cell.code,
                "name": cell.name,
                "community": cell.community,
                "n": [cell.counts[c] for c in SENT],
                "k": [c.of_cell[i] for c in per_figure],
            },
        }
        for i, (cell, geometry) in enumerate(zip(cells, shapes, strict=True))
    ]
    area = None
    if node.boundary:
        area = {
            "type": "Feature",
            "geometry": simplified([node.boundary], tolerance)[0],
            "properties": {"code": node.code, "name": node.name},
        }
    return {
        "area": area,
        "period": {"first": period.first.isoformat(), "last": period.last.isoformat()},
        "counters": [{"code": c, "label": str(COUNTER[c].label)} for c in SENT],
        "figures": [
            {
                "code": f.code,
                "label": str(f.label),
                "rate": f.is_rate,
                "parts": [SENT.index(c) for c in f.parts],
                "denominator": SENT.index(f.denominator) if f.denominator else None,
                "legend": [{"label": m.label, "colour": m.colour} for m in k.legend],
            }
            for f, k in zip(FIGURES, per_figure, strict=True)
        ],
        "links": [links.within(c, Dim.GRID, CELL) for c in SENT],
        "placeholder": CELL,
        "no_data": NO_DATA_COLOUR,
        "cells": {"type": "FeatureCollection", "features": features},
        "received": figures.totals(node, period, today)["received"],
        "in_cells": sum(c.counts["received"] for c in cells),
        "tolerance_m": round(tolerance * 111_320, 1),
        "heat": heat(user, node, period),
    }


def empty() -> dict[str, Any]:
    """The answer for a user who sees no jurisdiction at all."""
    return {
        "area": None,
        "counters": [],
        "figures": [],
        "links": [],
        "placeholder": CELL,
        "no_data": NO_DATA_COLOUR,
        "cells": {"type": "FeatureCollection", "features": []},
        "received": 0,
        "in_cells": 0,
        "heat": {"type": "FeatureCollection", "features": [], "legend": [], "square_m": 0, "located": 0},
    }
