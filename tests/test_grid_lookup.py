"""Point → grid cell lookup (civicgrid.grids.lookup) over cells written by the import action.

The fixture: two square communities side by side, 430103002001 (lon 112.98–112.99) split into a west
cell …001 and an east cell …002 at lon 112.985, and 430103002002 (lon 112.99–113.00) as one cell …001.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from civicgrid.grids import lookup
from civicgrid.grids.actions import do_import_grid_cells
from civicgrid.grids.importer import check_grid_import
from civicgrid.grids.lookup import GridIndex, grid_index, locate_grid_cell
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.actions import do_upsert_jurisdiction
from civicgrid.jurisdictions.models import Level

pytestmark = pytest.mark.django_db

W, MID, E, EAST_END = 112.98, 112.985, 112.99, 113.00
S, N = 28.19, 28.20
A, B = "430103002001", "430103002002"
WEST, EAST, OTHER = f"{A}001", f"{A}002", f"{B}001"


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def import_cells(cells: dict[str, dict[str, Any]]) -> None:
    features = [
        {"type": "Feature", "properties": {"code": code}, "geometry": geom} for code, geom in cells.items()
    ]
    plan = check_grid_import({"type": "FeatureCollection", "features": features})
    assert plan.ok, plan.errors
    do_import_grid_cells(plan, actor=None)


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    # The index is per process; a test must not see one built from another test's rows.
    lookup.reset_grid_index()
    yield
    lookup.reset_grid_index()


@pytest.fixture
def cells() -> dict[str, int]:
    city, _ = do_upsert_jurisdiction(code="430100", name="长沙市", level=Level.CITY, parent=None, actor=None)
    county, _ = do_upsert_jurisdiction(
        code="430103", name="天心区", level=Level.COUNTY, parent=city, actor=None
    )
    township, _ = do_upsert_jurisdiction(
        code="430103002", name="坡子街街道", level=Level.TOWNSHIP, parent=county, actor=None
    )
    for code, name, boundary in [
        (A, "八角亭社区", square(W, S, E, N)),
        (B, "西牌楼社区", square(E, S, EAST_END, N)),
    ]:
        do_upsert_jurisdiction(
            code=code, name=name, level=Level.COMMUNITY, parent=township, boundary=boundary, actor=None
        )
    import_cells({WEST: square(W, S, MID, N), EAST: square(MID, S, E, N), OTHER: square(E, S, EAST_END, N)})
    return dict(GridCell.objects.values_list("code", "pk"))


def code_at(lon: float, lat: float) -> str | None:
    cell = locate_grid_cell(lon, lat)
    return None if cell is None else cell.code


@pytest.mark.usefixtures("cells")
@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (112.982, 28.195, WEST),
        (112.988, 28.195, EAST),
        (112.995, 28.199, OTHER),
        (112.97, 28.195, None),  # west of everything
        (112.982, 28.21, None),  # north of everything
        (W, S, WEST),  # a corner of the area still belongs to it
    ],
)
def test_it_locates_points_inside_and_outside(lon: float, lat: float, expected: str | None) -> None:
    assert code_at(lon, lat) == expected


@pytest.mark.usefixtures("cells")
def test_a_point_on_a_shared_edge_goes_to_the_lower_code() -> None:
    west = GridCell.objects.get(code=WEST)
    edge_lon = west.max_lon  # read back, so the test uses the stored (snapped) edge exactly
    assert code_at(edge_lon, 28.195) == WEST
    assert code_at(E, 28.195) == EAST  # between …001002 and …002001
    assert code_at(MID, N) == WEST  # corners shared by two cells
    assert code_at(E, S) == EAST


@pytest.mark.usefixtures("cells")
def test_the_cell_is_returned_with_its_community() -> None:
    cell = locate_grid_cell(112.995, 28.195)
    assert cell is not None
    assert cell.community.code == B


def test_locate_many_agrees_with_locate(cells: dict[str, int]) -> None:
    rng = np.random.default_rng(20260101)
    lons = rng.uniform(W - 0.002, EAST_END + 0.002, 2_000)
    lats = rng.uniform(S - 0.002, N + 0.002, 2_000)
    # Points on every edge and corner, where the tie rule decides.
    edge_lons = np.array([W, MID, E, EAST_END, MID, E, MID, E])
    edge_lats = np.array([28.195, 28.195, 28.195, 28.195, S, S, N, N])
    lons, lats = np.concatenate([lons, edge_lons]), np.concatenate([lats, edge_lats])
    index = grid_index()

    bulk = index.locate_many(lons, lats)

    single = np.array(
        [index.locate(lon, lat) or -1 for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True)]
    )
    np.testing.assert_array_equal(bulk, single)
    assert set(bulk.tolist()) == {-1, *cells.values()}


def test_an_empty_index_finds_nothing() -> None:
    index = GridIndex.build([])
    assert index.locate(112.98, 28.19) is None
    assert index.locate_many(np.array([112.98]), np.array([28.19])).tolist() == [-1]
    assert locate_grid_cell(112.98, 28.19) is None


@pytest.mark.usefixtures("cells")
def test_the_index_is_reused_while_nothing_changes() -> None:
    assert grid_index() is grid_index()


@pytest.mark.usefixtures("cells")
def test_the_index_is_rebuilt_after_a_cell_changes() -> None:
    before = grid_index()
    assert code_at(112.986, 28.195) == EAST

    # Move the shared edge east; the on-commit reset does not run inside a test transaction, so this
    # also proves that a changed cell is noticed through its updated_at.
    import_cells({WEST: square(W, S, 112.987, N), EAST: square(112.987, S, E, N)})

    assert grid_index() is not before
    assert code_at(112.986, 28.195) == WEST


@pytest.mark.usefixtures("cells")
def test_the_index_is_rebuilt_after_a_new_cell(django_capture_on_commit_callbacks: Any) -> None:
    grid_index()
    do_upsert_jurisdiction(
        code="430103002003",
        name="新社区",
        level=Level.COMMUNITY,
        parent=GridCell.objects.get(code=WEST).community.parent,
        boundary=square(W, N, E, 28.21),
        actor=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_cells({"430103002003001": square(W, N, E, 28.21)})
    assert lookup._current is None
    assert code_at(112.982, 28.205) == "430103002003001"
