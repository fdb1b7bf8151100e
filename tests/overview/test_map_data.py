"""The overview map's GeoJSON: the open cases of the node's area only (never another district's, whoever
asks), overdue ones flagged, the newest POINT_LIMIT as points and all of them in the density squares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from civicgrid.lib.clock import frozen
from civicgrid.overview import geo
from tests.overview.scenario import NOW, Scenario, build
from tests.world import World, square


@pytest.fixture
def scenario(world: World) -> Scenario:
    return build(world)


def map_data(client: Client, code: str | None = None) -> Any:
    url = "/overview/map.geojson" + (f"?j={code}" if code else "")
    with frozen(NOW):
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return response.json()


def numbers(data: Any) -> dict[str, bool]:
    return {f["properties"]["number"]: f["properties"]["overdue"] for f in data["features"]}


@pytest.mark.parametrize(
    ("username", "code", "keys"),
    [
        ("tx_leader", None, {"D", "E", "L", "M"}),
        ("tx_leader", "430103", {"D", "E", "L", "M"}),
        ("tx_supervisor", "430103002001", {"D", "E", "L", "M"}),
        ("root", "430103", {"D", "E", "L", "M"}),  # even a superuser's 天心区 map holds no 雨花区 case
        ("yh_dispatcher", None, {"Y1"}),
        ("cs_dispatcher", "430100", {"D", "E", "L", "M", "Y1"}),
        ("tx_leader", "430103004", set()),  # 城南路街道: nothing open there
    ],
)
def test_the_open_cases_of_the_area_and_nothing_else(
    scenario: Scenario, client_for: Callable[[str], Client], username: str, code: str | None, keys: set[str]
) -> None:
    data = map_data(client_for(username), code)
    expected = {scenario.number(k): k in ("D", "L", "Y1") for k in keys}
    assert numbers(data) == expected
    assert data["open_located"] == len(keys)
    assert sum(f["properties"]["count"] for f in data["heat"]["features"]) == len(keys)
    assert data["overdue_shown"] == sum(expected.values())


def test_a_point_carries_what_the_popup_shows(
    scenario: Scenario, client_for: Callable[[str], Client]
) -> None:
    data = map_data(client_for("tx_leader"), "430103")
    d = next(f for f in data["features"] if f["properties"]["number"] == scenario.number("D"))
    assert d["geometry"] == {"type": "Point", "coordinates": [112.91, 28.11]}
    assert d["properties"]["title"] == "D 占道经营"
    assert d["properties"]["due"] == "2026-03-12 10:00"  # Beijing time
    assert d["properties"]["url"] == f"/cases/{scenario.number('D')}/"
    assert data["area"]["properties"]["code"] == "430103"
    assert data["area"]["geometry"] == square(112.90, 28.00, 0.2)


def test_points_are_capped_newest_first_but_the_squares_count_all(
    scenario: Scenario, client_for: Callable[[str], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(geo, "POINT_LIMIT", 2)
    data = map_data(client_for("tx_leader"), "430103")
    # Open, newest first: E (03-16), M (03-10), D (03-05), L (02-28).
    assert list(numbers(data)) == [scenario.number("E"), scenario.number("M")]
    assert (data["shown"], data["open_located"], data["limit"]) == (2, 4, 2)
    assert sum(f["properties"]["count"] for f in data["heat"]["features"]) == 4


@pytest.mark.parametrize(
    ("username", "code"), [("tx_leader", "430111"), ("yh_dispatcher", "430103"), ("pzj_dispatcher", "430103")]
)
def test_another_area_is_not_found(
    scenario: Scenario, client_for: Callable[[str], Client], username: str, code: str
) -> None:
    response = client_for(username).get(f"/overview/map.geojson?j={code}")
    assert response.status_code == 404
    assert b"FeatureCollection" not in response.content


def test_class_breaks() -> None:
    assert geo.class_breaks(1) == [1]
    assert geo.class_breaks(3) == [1, 2, 3]
    assert geo.class_breaks(10) == [2, 4, 6, 8, 10]
    assert geo.class_breaks(12) == [3, 5, 8, 10, 12]


def test_heat_squares_count_points_per_square(world: World) -> None:
    node = world.j("430103")  # 0.2° × 0.2° from (112.90, 28.00): squares of 0.01° of latitude
    points = [(112.9001, 28.0001), (112.9002, 28.0002), (113.05, 28.15)]
    heat = geo.heat_squares(node, points)
    counts = sorted(f["properties"]["count"] for f in heat["features"])
    assert counts == [1, 2]
    assert heat["legend"] == [
        {"from": 1, "to": 1, "colour": geo.PALETTE[-2]},
        {"from": 2, "to": 2, "colour": geo.PALETTE[-1]},
    ]
    assert heat["size_m"] == 1113  # 0.2° / 20 of latitude
    first = next(f for f in heat["features"] if f["properties"]["count"] == 2)
    ring = first["geometry"]["coordinates"][0]
    assert ring[0] == [112.9, 28.0]
    assert geo.heat_squares(node, []) == {"features": [], "legend": [], "size_m": 0}
