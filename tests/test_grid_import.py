"""Grid-cell import: check_grid_import (validation), do_import_grid_cells (writes) and the command.

The fixture district: city 430100 → county 430103 → township 430103002 → two square communities side by
side, 430103002001 (west) and 430103002002 (east), each 0.01° (about 1 km) wide.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from civicgrid.accounts.models import User
from civicgrid.grids import lookup
from civicgrid.grids.actions import (
    do_import_grid_cells,
    do_set_grid_staff,
    do_upsert_building,
    grid_cell_derived_fields,
)
from civicgrid.grids.importer import GridImportPlan, check_grid_import
from civicgrid.grids.models import Building, GridCell
from civicgrid.jurisdictions.actions import do_upsert_jurisdiction
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib.geometry import area_m2, from_geojson

pytestmark = pytest.mark.django_db

# Community 430103002001 spans lon 112.98–112.99, 430103002002 spans 112.99–113.00; both lat 28.19–28.20.
W, MID, E, EAST_END = 112.98, 112.985, 112.99, 113.00
S, N = 28.19, 28.20
A, B = "430103002001", "430103002002"

Geometry = dict[str, Any]


def square(x0: float, y0: float, x1: float, y1: float) -> Geometry:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature(code: Any, geometry: Any, **properties: Any) -> dict[str, Any]:
    props = {"code": code, **properties} if code is not None else properties
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def good_file() -> dict[str, Any]:
    """Three cells that cover both communities exactly: A's west and east halves, and all of B."""
    return collection(
        feature(
            f"{A}001", square(W, S, MID, N), household_count=320, leader="leader_a", workers=["worker_1"]
        ),
        feature(f"{A}002", square(MID, S, E, N), name="东片网格", workers=["worker_2", "worker_3"]),
        feature(f"{B}001", square(E, S, EAST_END, N), household_count=150),
    )


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Assertions read the English source messages, whatever translation is added later.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    lookup.reset_grid_index()
    yield
    lookup.reset_grid_index()


@pytest.fixture
def district() -> dict[str, Jurisdiction]:
    city, _ = do_upsert_jurisdiction(code="430100", name="长沙市", level=Level.CITY, parent=None, actor=None)
    county, _ = do_upsert_jurisdiction(
        code="430103", name="天心区", level=Level.COUNTY, parent=city, actor=None
    )
    township, _ = do_upsert_jurisdiction(
        code="430103002", name="坡子街街道", level=Level.TOWNSHIP, parent=county, kind="街道", actor=None
    )
    west, _ = do_upsert_jurisdiction(
        code=A,
        name="八角亭社区居委会",
        level=Level.COMMUNITY,
        parent=township,
        kind="社区",
        boundary=square(W, S, E, N),
        actor=None,
    )
    east, _ = do_upsert_jurisdiction(
        code=B,
        name="西牌楼社区居委会",
        level=Level.COMMUNITY,
        parent=township,
        kind="社区",
        boundary=square(E, S, EAST_END, N),
        actor=None,
    )
    return {"township": township, "west": west, "east": east}


@pytest.fixture
def staff() -> dict[str, User]:
    names = ["leader_a", "worker_1", "worker_2", "worker_3", "worker_4"]
    return {name: User.objects.create_user(username=name) for name in names}


def import_file(data: Any, **kwargs: Any) -> GridImportPlan:
    plan = check_grid_import(data, **kwargs)
    assert plan.ok, plan.errors
    do_import_grid_cells(plan, actor=None)
    return plan


def problems(plan: GridImportPlan) -> list[str]:
    return [f"{p.feature}: {p.message}" for p in plan.errors]


# --- a good file ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("district")
def test_it_imports_a_good_file(staff: dict[str, User]) -> None:
    plan = check_grid_import(good_file())
    assert plan.ok, problems(plan)
    assert plan.warnings == []

    result = do_import_grid_cells(plan, actor=None)

    assert (result.created, result.updated) == (3, 0)
    assert list(GridCell.objects.values_list("code", flat=True)) == [f"{A}001", f"{A}002", f"{B}001"]
    west = GridCell.objects.get(code=f"{A}001")
    assert west.name == "八角亭社区第1网格"  # default: the community's short name + the sequence
    assert west.community.code == A
    assert west.household_count == 320
    assert west.leader == staff["leader_a"]
    assert list(west.workers.all()) == [staff["worker_1"]]
    assert (west.min_lon, west.min_lat, west.max_lon, west.max_lat) == pytest.approx((W, S, MID, N))
    assert (west.center_lon, west.center_lat) == pytest.approx(((W + MID) / 2, (S + N) / 2))
    # 0.005° × 0.01° at latitude 28.195: about 490 m × 1,106 m.
    assert west.area_m2 == pytest.approx(area_m2(from_geojson(square(W, S, MID, N))), abs=0.1)
    assert 530_000 < west.area_m2 < 560_000
    assert west.is_active
    east = GridCell.objects.get(code=f"{A}002")
    assert east.name == "东片网格"
    assert east.leader is None
    assert east.household_count == 0
    assert sorted(u.username for u in east.workers.all()) == ["worker_2", "worker_3"]


@pytest.mark.usefixtures("district", "staff")
def test_reimport_updates_without_duplicates() -> None:
    import_file(good_file())
    changed = good_file()
    changed["features"][0]["properties"].update(household_count=400, workers=["worker_4"], leader=None)

    result = do_import_grid_cells(check_grid_import(changed), actor=None)

    assert (result.created, result.updated) == (0, 3)
    assert GridCell.objects.count() == 3
    west = GridCell.objects.get(code=f"{A}001")
    assert west.household_count == 400
    assert west.leader is None
    assert [u.username for u in west.workers.all()] == ["worker_4"]
    assert GridCell.workers.through.objects.count() == 3  # worker_1 was replaced, not kept beside worker_4


@pytest.mark.usefixtures("district", "staff")
def test_reimport_moves_a_shared_edge() -> None:
    """Replacing cells by the same codes is not an overlap with their own old rows."""
    import_file(good_file())
    moved = collection(
        feature(f"{A}001", square(W, S, 112.987, N)),
        feature(f"{A}002", square(112.987, S, E, N)),
    )
    plan = check_grid_import(moved)
    assert plan.ok, problems(plan)
    do_import_grid_cells(plan, actor=None)
    assert GridCell.objects.get(code=f"{A}001").max_lon == pytest.approx(112.987)


@pytest.mark.usefixtures("district")
def test_it_accepts_community_code_and_sequence() -> None:
    data = collection(
        {
            "type": "Feature",
            "properties": {"community_code": A, "sequence": 7},
            "geometry": square(W, S, E, N),
        }
    )
    plan = check_grid_import(data)
    assert plan.ok, problems(plan)
    assert plan.features[0].code == f"{A}007"
    assert plan.features[0].name == "八角亭社区第7网格"


@pytest.mark.usefixtures("district")
def test_overlaps_within_the_tolerance_are_accepted() -> None:
    # 1e-6° of longitude across 0.01° of latitude is about 0.1 m × 1,106 m ≈ 108 m².
    data = collection(
        feature(f"{A}001", square(W, S, MID + 1e-6, N)), feature(f"{A}002", square(MID, S, E, N))
    )
    assert check_grid_import(data, tolerance_m2=200).ok
    assert not check_grid_import(data, tolerance_m2=50).ok


@pytest.mark.parametrize("tolerance", [-1.0, math.nan])
def test_a_bad_tolerance_is_a_programming_error(tolerance: float) -> None:
    with pytest.raises(ValueError, match="tolerance_m2"):
        check_grid_import(good_file(), tolerance_m2=tolerance)


def test_it_snaps_coordinates(district: dict[str, Jurisdiction]) -> None:
    data = collection(feature(f"{A}001", square(W + 1e-9, S, E, N - 3e-9)))
    plan = check_grid_import(data)
    ring = plan.features[0].geometry["coordinates"][0]
    assert all(round(v * 1e7) == pytest.approx(v * 1e7, abs=1e-6) for point in ring for v in point)


@pytest.mark.usefixtures("district")
def test_derived_fields_of_a_multipolygon() -> None:
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [square(W, S, MID, 28.195)["coordinates"], square(MID, 28.195, E, N)["coordinates"]],
    }
    derived = grid_cell_derived_fields(geometry)
    assert (derived["min_lon"], derived["max_lat"]) == (W, N)
    # The centre must lie in the cell: the centroid of two diagonal squares is on their shared corner.
    assert from_geojson(geometry).covers(
        from_geojson({"type": "Point", "coordinates": [derived["center_lon"], derived["center_lat"]]})
    )


# --- bad files: rejected, naming the feature, and nothing is written ---------------------------------------


def _replace(index: int, new: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        data = good_file()
        data["features"][index] = new
        return data

    return build


def _set(index: int, **properties: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        data = good_file()
        data["features"][index]["properties"].update(properties)
        return data

    return build


BOW_TIE = {"type": "Polygon", "coordinates": [[[W, S], [MID, N], [MID, S], [W, N], [W, S]]]}

BAD_FILES: list[tuple[str, Callable[[], Any], str, str]] = [
    (
        "not a polygon",
        _replace(1, feature(f"{A}002", {"type": "Point", "coordinates": [112.986, 28.195]})),
        f"feature #2 (code {A}002)",
        "not a polygon",
    ),
    ("geometry missing", _replace(1, feature(f"{A}002", None)), f"feature #2 (code {A}002)", "not a polygon"),
    (
        "self-intersecting bow-tie",
        _replace(0, feature(f"{A}001", BOW_TIE)),
        f"feature #1 (code {A}001)",
        "Self-intersection",
    ),
    (
        "overlapping cells",
        _replace(1, feature(f"{A}002", square(112.984, S, E, N))),
        f"feature #2 (code {A}002)",
        f"overlaps feature #1 (code {A}001) by",
    ),
    (
        "cell outside its community",
        _replace(2, feature(f"{B}001", square(E, S, EAST_END, 28.201))),
        f"feature #3 (code {B}001)",
        f"outside its community {B} (西牌楼社区居委会)",
    ),
    (
        "unknown community",
        _replace(2, feature("430103002009001", square(E, S, EAST_END, N))),
        "feature #3 (code 430103002009001)",
        "Unknown community 430103002009",
    ),
    (
        "code too short",
        _set(0, code="43010300200101"),
        "feature #1 (code 43010300200101)",
        "is not a grid cell code",
    ),
    ("sequence 000", _set(0, code=f"{A}000"), f"feature #1 (code {A}000)", "is not a grid cell code"),
    ("code of the wrong type", _set(0, code=["x"]), "feature #1", "The code must be a string"),
    (
        "full-width digits",
        _set(0, code="４３０１０３００２００１００１"),
        "feature #1 (code ４３０１０３００２００１００１)",
        "is not a grid cell code",
    ),
    ("no code at all", _set(0, code=None), "feature #1", "has no code"),
    ("duplicate code", _set(1, code=f"{A}001"), f"feature #2 (code {A}001)", "Duplicate code: feature #1"),
    (
        "code and sequence disagree",
        _set(0, community_code=A, sequence=5),
        f"feature #1 (code {A}001)",
        "does not match",
    ),
    ("unknown leader", _set(0, leader="nobody"), f"feature #1 (code {A}001)", "Unknown user nobody"),
    (
        "unknown worker",
        _set(1, workers=["worker_2", "ghost"]),
        f"feature #2 (code {A}002)",
        "Unknown user ghost",
    ),
    ("workers not a list", _set(1, workers="worker_2"), f"feature #2 (code {A}002)", "list of usernames"),
    ("negative households", _set(2, household_count=-1), f"feature #3 (code {B}001)", "household_count"),
    ("households as text", _set(2, household_count="12"), f"feature #3 (code {B}001)", "household_count"),
    (
        "households as a fraction",
        _set(2, household_count=1.5),
        f"feature #3 (code {B}001)",
        "household_count",
    ),
    (
        "households as a boolean",
        _set(2, household_count=True),
        f"feature #3 (code {B}001)",
        "household_count",
    ),
    ("name too long", _set(0, name="网" * 65), f"feature #1 (code {A}001)", "longer than 64"),
]


@pytest.mark.usefixtures("district", "staff")
@pytest.mark.parametrize(
    ("case", "build", "label", "fragment"), BAD_FILES, ids=[case[0] for case in BAD_FILES]
)
def test_a_bad_file_is_rejected_and_nothing_written(
    case: str, build: Callable[[], Any], label: str, fragment: str
) -> None:
    before = GridCell.objects.count()
    plan = check_grid_import(build())

    assert not plan.ok
    assert any(p.feature == label and fragment in p.message for p in plan.errors), problems(plan)
    with pytest.raises(ValidationError):
        do_import_grid_cells(plan, actor=None)
    assert GridCell.objects.count() == before
    assert GridCell.workers.through.objects.count() == 0


@pytest.mark.usefixtures("district", "staff")
def test_every_bad_feature_is_reported_not_only_the_first() -> None:
    data = good_file()
    data["features"][0]["geometry"] = BOW_TIE
    data["features"][2]["properties"]["leader"] = "nobody"
    plan = check_grid_import(data)
    assert [p.feature for p in plan.errors] == [f"feature #1 (code {A}001)", f"feature #3 (code {B}001)"]
    assert [f.code for f in plan.features] == [f"{A}002"]


@pytest.mark.usefixtures("district", "staff")
def test_overlap_with_an_existing_cell_is_rejected() -> None:
    import_file(collection(feature(f"{A}001", square(W, S, MID, N))))
    before = GridCell.objects.count()

    plan = check_grid_import(collection(feature(f"{A}003", square(112.984, S, E, N))))

    assert [(p.feature, p.message.split(" by ")[0]) for p in plan.errors] == [
        (f"feature #1 (code {A}003)", f"The cell overlaps the existing grid cell {A}001 (八角亭社区第1网格)")
    ]
    with pytest.raises(ValidationError):
        do_import_grid_cells(plan, actor=None)
    assert GridCell.objects.count() == before


@pytest.mark.usefixtures("district")
def test_a_township_code_is_not_a_community() -> None:
    # Only a hand-edited tree has a non-community with a 12-digit code; the check must not trust the length.
    Jurisdiction.objects.filter(code=B).update(level=Level.TOWNSHIP)
    plan = check_grid_import(collection(feature(f"{B}001", square(E, S, EAST_END, N))))
    assert [p.message for p in plan.errors] == [f"{B} 西牌楼社区居委会 is a township, not a community."]


HOSTILE: list[Any] = [
    None,
    42,
    "FeatureCollection",
    [],
    {},
    {"type": "FeatureCollection"},
    {"type": "FeatureCollection", "features": "x"},
    {"type": "FeatureCollection", "features": {"0": {}}},
    {"type": "FeatureCollection", "features": []},
    {"type": ["FeatureCollection"], "features": []},
    {"type": "FeatureCollection", "features": [42, None, {"geometry": "x"}]},
    collection({"type": "Feature"}),
    collection({"type": "Feature", "properties": [], "geometry": None}),
    collection({"type": "Feature", "properties": "code", "geometry": square(W, S, E, N)}),
    collection(feature(f"{A}001", {"type": "Polygon"})),
    collection(feature(f"{A}001", {"type": "Polygon", "coordinates": None})),
    collection(feature(f"{A}001", {"type": "Polygon", "coordinates": "x"})),
    collection(
        feature(f"{A}001", {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3, 4], ["a", "b"]]]})
    ),
    collection(feature(f"{A}001", {"type": "Polygon", "coordinates": [[[W, S], [E, S]]]})),
    collection(
        feature(f"{A}001", {"type": "Polygon", "coordinates": [[[W, S, 1, 2, 3], [E, S], [E, N], [W, S]]]})
    ),
    collection(feature(f"{A}001", {"type": "Polygon", "coordinates": [[[[[[[[W]]]]]]]]})),
    collection(feature(f"{A}001", {"type": "Polygon", "coordinates": [[{"x": W}, {"y": S}, {}, {}]]})),
    collection(
        feature(
            f"{A}001", {"type": "Polygon", "coordinates": [[[math.nan, S], [E, S], [E, N], [math.nan, S]]]}
        )
    ),
    collection(
        feature(
            f"{A}001", {"type": "Polygon", "coordinates": [[[math.inf, S], [E, S], [E, N], [math.inf, S]]]}
        )
    ),
    collection(
        feature(f"{A}001", {"type": "Polygon", "coordinates": [[[1e308, S], [E, S], [E, N], [1e308, S]]]})
    ),
    collection(feature(f"{A}001", {"type": "MultiPolygon", "coordinates": [1, [2], [[3]]]})),
    collection(feature(f"{A}001", {"type": "MultiPolygon", "coordinates": []})),
    collection(
        feature(
            f"{A}001", {"type": "Polygon", "coordinates": [[[W, S], [W + 1e-9, S], [W, S + 1e-9], [W, S]]]}
        )
    ),
    collection(feature(f"{A}001", {"type": "GeometryCollection", "geometries": [square(W, S, E, N)]})),
    collection(feature(10**5000, square(W, S, E, N))),
    collection(feature(None, square(W, S, E, N), community_code={"a": 1}, sequence=[1])),
    collection(feature(None, square(W, S, E, N), community_code=A, sequence=10**400)),
    collection(feature(None, square(W, S, E, N), community_code=A, sequence=True)),
    collection(feature(f"{A}001", square(W, S, E, N), leader=["x"], workers=[None, 1], name={"zh": "x"})),
    collection(feature(f"{A}001\n\x00", square(W, S, E, N))),
]


@pytest.mark.usefixtures("district")
@pytest.mark.parametrize("data", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_an_error_never_an_exception(data: Any) -> None:
    plan = check_grid_import(data)
    assert not plan.ok
    assert all(isinstance(p.feature, str) and isinstance(p.message, str) for p in plan.errors)
    with pytest.raises(ValidationError):
        do_import_grid_cells(plan, actor=None)
    assert GridCell.objects.count() == 0


@pytest.mark.usefixtures("district")
def test_junk_features_are_each_named() -> None:
    plan = check_grid_import({"type": "FeatureCollection", "features": [42, None, {"geometry": "x"}]})
    assert [p.feature for p in plan.errors] == ["feature #1", "feature #2", "feature #3"]
    assert all("not a GeoJSON Feature" in p.message for p in plan.errors)


# --- warnings ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("district")
def test_a_gap_in_a_community_is_a_warning() -> None:
    data = collection(feature(f"{A}001", square(W, S, MID, N)), feature(f"{B}001", square(E, S, EAST_END, N)))
    plan = check_grid_import(data)

    assert plan.ok
    [warning] = plan.warnings
    assert warning.feature == f"community {A} (八角亭社区居委会)"
    assert "A gap of 54" in warning.message  # the east half of A, ≈ 543,000 m²
    lon, lat = (float(v) for v in warning.message.rsplit("around ", 1)[1].rstrip(".").split(", "))
    assert MID < lon < E
    assert S < lat < N


@pytest.mark.usefixtures("district")
def test_cells_already_in_the_database_close_the_gap() -> None:
    import_file(collection(feature(f"{A}001", square(W, S, MID, N))))
    plan = check_grid_import(collection(feature(f"{A}002", square(MID, S, E, N))))
    assert plan.ok
    assert plan.warnings == []


@pytest.mark.usefixtures("district")
def test_small_gaps_are_within_the_tolerance() -> None:
    data = collection(
        feature(f"{A}001", square(W, S, MID, N)), feature(f"{A}002", square(MID + 1e-7, S, E, N))
    )
    # A strip 1e-7° wide and 0.01° long: about 11 m².
    assert check_grid_import(data, tolerance_m2=20).warnings == []
    assert len(check_grid_import(data, tolerance_m2=5).warnings) == 1


def test_a_community_without_a_boundary_is_a_warning(district: dict[str, Jurisdiction]) -> None:
    do_upsert_jurisdiction(
        code="430103002003", name="无界社区", level=Level.COMMUNITY, parent=district["township"], actor=None
    )
    plan = check_grid_import(collection(feature("430103002003001", square(W, S, E, 28.3))))
    assert plan.ok
    assert [(w.feature, "no boundary" in w.message) for w in plan.warnings] == [
        ("community 430103002003 (无界社区)", True)
    ]


# --- the write action -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("district", "staff")
def test_import_resets_the_lookup_index_on_commit(django_capture_on_commit_callbacks: Any) -> None:
    lookup.grid_index()
    assert lookup._current is not None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_file(good_file())
    assert callbacks == [lookup.reset_grid_index]
    assert lookup._current is None


@pytest.mark.usefixtures("district", "staff")
def test_an_empty_plan_writes_nothing() -> None:
    result = do_import_grid_cells(GridImportPlan(), actor=None)
    assert (result.created, result.updated) == (0, 0)


@pytest.mark.usefixtures("district")
def test_set_grid_staff_replaces_leader_and_workers(staff: dict[str, User]) -> None:
    import_file(good_file())
    cell = GridCell.objects.get(code=f"{A}002")

    updated = do_set_grid_staff(cell, leader=staff["worker_1"], workers=[staff["worker_4"]], actor=None)

    assert updated.leader == staff["worker_1"]
    assert [u.username for u in GridCell.objects.get(pk=cell.pk).workers.all()] == ["worker_4"]


@pytest.mark.usefixtures("district")
def test_set_grid_staff_refuses_inactive_accounts(staff: dict[str, User]) -> None:
    import_file(good_file())
    staff["worker_4"].is_active = False
    staff["worker_4"].save()
    cell = GridCell.objects.get(code=f"{A}002")
    with pytest.raises(ValidationError):
        do_set_grid_staff(cell, leader=None, workers=[staff["worker_4"]], actor=None)


@pytest.mark.usefixtures("district")
def test_upsert_building_creates_then_updates(staff: dict[str, User]) -> None:
    import_file(good_file())
    cell = GridCell.objects.get(code=f"{A}001")

    building, created = do_upsert_building(
        code=f"{A}001B01",
        name="1栋",
        grid_cell=cell,
        head=staff["worker_1"],
        household_count=40,
        lon=112.982,
        lat=28.195,
        actor=None,
    )
    assert created
    again, created_again = do_upsert_building(
        code=f"{A}001B01", name="1栋", grid_cell=cell, head=None, household_count=42, actor=None
    )
    assert not created_again
    assert again.pk == building.pk
    assert Building.objects.get(pk=building.pk).household_count == 42
    assert Building.objects.get(pk=building.pk).head is None


@pytest.mark.usefixtures("district", "staff")
@pytest.mark.parametrize(
    "kwargs",
    [{"household_count": -1}, {"lon": 112.98}, {"lon": 200.0, "lat": 28.0}, {"name": " "}],
    ids=["negative households", "lon without lat", "lon out of range", "blank name"],
)
def test_upsert_building_rejects_bad_values(kwargs: dict[str, Any]) -> None:
    import_file(good_file())
    cell = GridCell.objects.get(code=f"{A}001")
    values: dict[str, Any] = {"code": "B1", "name": "1栋", "grid_cell": cell, "head": None, **kwargs}
    with pytest.raises(ValidationError):
        do_upsert_building(**values, actor=None)
    assert Building.objects.count() == 0


# --- the command ------------------------------------------------------------------------------------------


def write(tmp_path: Path, data: Any, name: str = "cells.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.usefixtures("district", "staff")
def test_command_imports_and_prints_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_grid_cells", str(write(tmp_path, good_file())))
    assert "3 cell(s) created, 0 updated" in capsys.readouterr().out
    assert GridCell.objects.count() == 3


@pytest.mark.usefixtures("district", "staff")
def test_command_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_grid_cells", str(write(tmp_path, good_file())), "--dry-run")
    assert "3 cell(s) would be created, 0 updated" in capsys.readouterr().out
    assert GridCell.objects.count() == 0


@pytest.mark.usefixtures("district", "staff")
def test_command_with_errors_fails_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = good_file()
    data["features"][1]["geometry"] = BOW_TIE
    data["features"].append(feature(f"{B}002", None))
    with pytest.raises(CommandError, match="2 error"):
        call_command("import_grid_cells", str(write(tmp_path, data)))
    err = capsys.readouterr().err
    assert f"feature #2 (code {A}002): The polygon is invalid: Self-intersection" in err
    assert f"feature #4 (code {B}002): The geometry is missing" in err
    assert GridCell.objects.count() == 0


@pytest.mark.usefixtures("district", "staff")
def test_command_prints_warnings_and_still_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = good_file()
    del data["features"][1]
    call_command("import_grid_cells", str(write(tmp_path, data)), "--tolerance-m2", "10")
    out = capsys.readouterr().out
    assert f"warning: community {A} (八角亭社区居委会): A gap of" in out
    assert GridCell.objects.count() == 2


@pytest.mark.usefixtures("district")
@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{not json", "is not valid JSON"), (b"\xff\xfe{}", "is not UTF-8"), ("[" * 100_000, "JSON")],
    ids=["bad JSON", "not UTF-8", "absurd nesting"],
)
def test_command_reports_an_unreadable_file(tmp_path: Path, content: str | bytes, fragment: str) -> None:
    path = tmp_path / "bad.geojson"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(CommandError, match=fragment):
        call_command("import_grid_cells", str(path))
    assert GridCell.objects.count() == 0


def test_command_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_grid_cells", str(tmp_path / "missing.geojson"))


def test_command_rejects_a_negative_tolerance(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="tolerance"):
        call_command("import_grid_cells", str(tmp_path / "x.geojson"), "--tolerance-m2", "-1")
