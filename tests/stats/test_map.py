"""The statistics map (civicgrid/stats/geo.py, /stats/map.json, the map section of /stats/): on a small
March 2026 built through the real case actions, the figures of every grid cell equal counts worked out here
from the case rows; a rate with nothing to count is "no data", never 0 %; each cell's drill-down link
lists exactly its cases; the heat squares count the located requests; an odd run of days (the fact scan)
agrees with the whole month (the rollups); and another district's desk gets a 404.

The grid: 八角亭's cell is split into a west half (BJT_POINT) and an east half, and 西牌楼 and 天剑 get a
cell each (天剑's stays empty). March, received (all 天心区 unless said otherwise):

west  w1 handled 03-02 → 03-04, revisit satisfied · w2 handled 03-05 → 03-06, revisit basically satisfied ·
      w3 taken in 03-10 and voided (received, not due) · wf handled in February (outside the period)
east  e1 signed for 03-02, never replied (overdue once swept) · e2 received 03-09, closed 03-25 after its
      deadline (closed late) · e3 handled 03-03 → 03-05, revisit unsatisfied · ea received 1 April (outside)
西牌楼 x1 taken in 03-12, never registered (its registration deadline missed)
雨花区 y1 handled 03-03 (in no 天心区 figure)
The sweep runs on 03-20, before e2 is closed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.actions import do_void
from civicgrid.cases.models import Case, CaseClock, Stage, Timing
from civicgrid.cases.workflow import Group, in_group
from civicgrid.grids.actions import do_import_grid_cells
from civicgrid.grids.importer import check_grid_import
from civicgrid.grids.lookup import reset_grid_index
from civicgrid.grids.models import GridCell
from civicgrid.lib import clock
from civicgrid.overview.geo import heat_squares
from civicgrid.stats import figures as figures_module
from civicgrid.stats import geo
from civicgrid.stats.figures import Period
from civicgrid.stats.links import Links
from civicgrid.stats.refresh import do_rebuild
from tests.cases.helpers import YH_POINT, Catalog, build_catalog
from tests.overview.test_links import case_list_links
from tests.stats.scenarios import (
    TIANXIN,
    TODAY,
    at,
    handled,
    on,
    refresh,
    replied_and_verified,
    revisit,
    run_sweep,
    signed_for,
    take_in,
)
from tests.world import World, square

MARCH = Period.month(2026, 3)
WEST, EAST = "430103002001001", "430103002001002"  # 八角亭's two halves
XIPAILOU, TIANJIAN = "430103002002001", "430103004001001"
EAST_POINT = (112.94, 28.12)
XIPAILOU_POINT = (112.97, 28.12)
CELLS = (WEST, EAST, XIPAILOU, TIANJIAN)


def _cell(code: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, "household_count": 100}}


def _rectangle(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def catalog(world: World) -> Catalog:
    """The grid of the module docstring, the catalogue, and the figures built (empty) before any case."""
    plan = check_grid_import(
        {
            "type": "FeatureCollection",
            "features": [
                _cell(WEST, _rectangle(112.90, 28.10, 112.925, 28.15)),
                _cell(EAST, _rectangle(112.925, 28.10, 112.95, 28.15)),
                _cell(XIPAILOU, square(112.95, 28.10, 0.05)),
                _cell(TIANJIAN, square(113.00, 28.10, 0.05)),
            ],
        }
    )
    assert plan.ok, plan.errors
    do_import_grid_cells(plan, actor=None)
    reset_grid_index()  # the import resets it on commit, and a test's transaction never commits
    geo.forget_shapes()
    built = build_catalog()
    with clock.frozen(at(2025, 1, 1)):
        do_rebuild(actor=None)
    return built


@pytest.fixture
def march(world: World, catalog: Catalog) -> dict[str, Case]:
    made: dict[str, Case] = {}
    made["wf"] = handled(world, catalog, at(2026, 2, 2), at(2026, 2, 4))
    made["w1"] = handled(world, catalog, at(2026, 3, 2), at(2026, 3, 4))
    revisit(made["w1"], at(2026, 3, 5, 10), "satisfied", "resolved")
    made["w2"] = handled(world, catalog, at(2026, 3, 5), at(2026, 3, 6))
    revisit(made["w2"], at(2026, 3, 9, 10), "basically", "partly")
    made["w3"] = take_in(world, at(2026, 3, 10))
    on(at(2026, 3, 10, 9, 5), do_void, made["w3"], reason="重复来电")
    made["e1"] = signed_for(world, at(2026, 3, 2), catalog.road, point=EAST_POINT)
    made["e2"] = signed_for(world, at(2026, 3, 9), catalog.road, point=EAST_POINT)
    made["e3"] = handled(world, catalog, at(2026, 3, 3), at(2026, 3, 5), point=EAST_POINT)
    revisit(made["e3"], at(2026, 3, 6, 10), "unsatisfied", "unresolved")
    made["x1"] = take_in(world, at(2026, 3, 12), point=XIPAILOU_POINT)
    made["y1"] = handled(world, catalog, at(2026, 3, 3), at(2026, 3, 5), lead="430111-cg", point=YH_POINT)
    run_sweep(at(2026, 3, 20, 9))
    replied_and_verified(made["e2"], at(2026, 3, 25))
    made["ea"] = take_in(world, at(2026, 4, 1), point=EAST_POINT)
    refresh()
    assert {c.grid_cell.code for key, c in made.items() if key != "y1" and c.grid_cell} == {
        WEST,
        EAST,
        XIPAILOU,
    }
    return made


# --- Counted from the case rows, independently of the statistics ----------------------------------------------


def _late(case: Case) -> bool:
    """Some stage deadline up to closing was missed (the revisit's clock runs after closing)."""
    return (
        CaseClock.objects.filter(case=case, timing__in=(Timing.OVERDUE, Timing.SERIOUS))
        .exclude(stage=Stage.REVISIT)
        .exists()
    )


def _in_period(case: Case, period: Period) -> bool:
    day = case.received_at.astimezone(at(2026, 1, 1).tzinfo).date()
    return period.first <= day <= period.last


def cases_of(code: str, period: Period = MARCH) -> dict[str, set[str]]:
    """The numbers of each counter's cases in the cell, worked out from the case rows."""
    tianxin = "430100/430103/"
    rows = [
        c
        for c in Case.objects.filter(grid_cell__code=code)
        if (c.origin_path.startswith(tianxin) or c.level_path.startswith(tianxin)) and _in_period(c, period)
    ]
    due = [c for c in rows if c.status in in_group(Group.OPEN, Group.DONE)]
    closed = [c for c in due if c.status in in_group(Group.DONE)]
    return {
        "received": {c.number for c in rows},
        "due": {c.number for c in due},
        "closed": {c.number for c in closed},
        "closed_on_time": {c.number for c in closed if not _late(c)},
        "overdue_open": {c.number for c in due if c.status in in_group(Group.OPEN) and _late(c)},
        "overdue_closed": {c.number for c in closed if _late(c)},
    }


# The revisit answers of the scenario (the latest answered revisit of each case), by hand.
REVISITS: dict[str, dict[str, set[str]]] = {
    WEST: {"revisited": {"w1", "w2"}, "satisfied": {"w1"}, "basically_satisfied": {"w2"}},
    EAST: {"revisited": {"e3"}, "satisfied": set(), "basically_satisfied": set()},
    XIPAILOU: {"revisited": set(), "satisfied": set(), "basically_satisfied": set()},
    TIANJIAN: {"revisited": set(), "satisfied": set(), "basically_satisfied": set()},
}


def expected_cases(march: dict[str, Case], code: str) -> dict[str, set[str]]:
    out = cases_of(code)
    out.update({k: {march[key].number for key in keys} for k, keys in REVISITS[code].items()})
    return out


def _map(client: Client, query: str) -> dict[str, Any]:
    with clock.frozen(at(2027, 3, 1)):
        response = client.get(f"/stats/map.json?{query}")
    assert response.status_code == 200, response.content[:300]
    body = (
        gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content
    )
    data: dict[str, Any] = json.loads(body)
    return data


def _by_code(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in data["cells"]["features"]}


def _counts(data: dict[str, Any], code: str) -> dict[str, int]:
    names = [c["code"] for c in data["counters"]]
    return dict(zip(names, _by_code(data)[code]["n"], strict=True))


# --- The figures per cell -------------------------------------------------------------------------------------


def test_the_scenario_is_what_the_docstring_says(march: dict[str, Case]) -> None:
    n = {key: c.number for key, c in march.items()}
    assert cases_of(WEST)["received"] == {n["w1"], n["w2"], n["w3"]}
    assert cases_of(WEST)["due"] == {n["w1"], n["w2"]}
    assert cases_of(EAST)["overdue_open"] == {n["e1"]}
    assert cases_of(EAST)["overdue_closed"] == {n["e2"]}
    assert cases_of(EAST)["closed_on_time"] == {n["e3"]}
    assert cases_of(XIPAILOU)["overdue_open"] == {n["x1"]}
    assert all(not numbers for numbers in cases_of(TIANJIAN).values())


def test_each_cells_figures_equal_the_counts_from_the_case_rows(
    march: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    data = _map(client_for("tx_leader"), "j=430103&p=2026-03")
    assert list(_by_code(data)) == list(CELLS)  # 天心区's cells in code order; 雨花区's is not drawn
    for code in CELLS:
        expected = {counter: len(numbers) for counter, numbers in expected_cases(march, code).items()}
        assert _counts(data, code) == expected, code
    assert data["in_cells"] == 3 + 3 + 1
    assert data["received"] == 3 + 3 + 1  # every March request of 天心区 lies in one of its cells
    assert data["period"] == {"first": "2026-03-01", "last": "2026-03-31"}


def test_a_rate_with_nothing_to_count_is_no_data_not_zero(
    march: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    data = _map(client_for("tx_leader"), "j=430103&p=2026-03")
    index = {f["code"]: i for i, f in enumerate(data["figures"])}
    cells = _by_code(data)
    satisfaction, close = index["satisfaction_rate"], index["close_rate"]
    # 西牌楼: one case due and none closed: 0 %, the lowest class — a figure, not "no data".
    assert cells[XIPAILOU]["k"][close] == 0
    # Nothing revisited there, and nothing at all in 天剑: no data (null), and the legend says so.
    assert cells[XIPAILOU]["k"][satisfaction] is None
    assert cells[TIANJIAN]["k"][close] is None
    legend = data["figures"][satisfaction]["legend"]
    assert legend[-1]["colour"] == data["no_data"] == geo.NO_DATA_COLOUR
    # West: (1 satisfied + 1 basically satisfied) / 2 = 100 %, the top class; east: 0 / 1, the lowest.
    assert cells[WEST]["k"][satisfaction] == 4
    assert cells[EAST]["k"][satisfaction] == 0
    # A count of 0 is data: 天剑 received nothing and is in the "0" class.
    received = data["figures"][index["received"]]
    assert received["legend"][cells[TIANJIAN]["k"][index["received"]]]["label"] == "0"


def test_classes() -> None:
    def cell(**counts: int) -> geo.Cell:
        return geo.Cell(0, "c", "c", "c", clock.now(), {c: counts.get(c, 0) for c in geo.SENT})

    rate = geo.figure_of("close_rate")
    shares = [(0, 0), (59, 100), (60, 100), (79, 100), (80, 100), (9, 10), (19, 20), (1, 1)]
    found = geo.classes(rate, [cell(closed=n, due=d) for n, d in shares])
    assert found.of_cell == [None, 0, 1, 1, 2, 3, 4, 4]
    assert [c.label for c in found.legend][-1] == "no data"
    assert len(found.legend) == 6
    received = geo.figure_of("received")
    found = geo.classes(received, [cell(received=n) for n in (0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55)])
    # Quintiles of the ten positive counts: two cells per class.
    assert [c.label for c in found.legend] == ["0", "1", "2–3", "4–8", "9–21", "22–55"]
    assert found.of_cell == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert found.legend[0].colour == geo.ZERO_COLOUR
    assert geo.count_bounds([0, 0]) == []
    assert geo.count_bounds([7, 7, 7]) == [7]
    assert geo.figure_of("no-such-figure") is geo.FIGURES[0]


# --- Drill-down -------------------------------------------------------------------------------------------------


def test_each_cells_links_list_exactly_its_cases(
    march: dict[str, Case], world: World, client_for: Callable[[str], Client]
) -> None:
    client = client_for("tx_leader")
    data = _map(client, "j=430103&p=2026-03")
    names = [c["code"] for c in data["counters"]]
    links = Links(world.j(TIANXIN), MARCH)
    for code in CELLS:
        expected = expected_cases(march, code)
        for counter, template in zip(names, data["links"], strict=True):
            url = template.replace(data["placeholder"], code)
            assert url == links.within(counter, "grid", code)
            query = urlsplit(url).query
            assert dict(parse_qsl(query))["grid"] == code
            with clock.frozen(at(2027, 3, 1)):
                answer = client.get(f"/api/v1/cases?{query}&limit=200")
            assert answer.status_code == 200, answer.content[:300]
            found = {item["number"] for item in answer.json()["items"]}
            assert found == expected[counter], (code, counter)


def test_the_top_cells_table_links_what_it_shows(
    march: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    client = client_for("tx_leader")
    with clock.frozen(at(2027, 3, 1)):
        html = client.get("/stats/?j=430103&p=2026-03&fig=satisfaction_rate").content.decode()
    section = html[html.index('id="map-section"') : html.index("</section>", html.index('id="map-section"'))]
    # The chosen figure's table is shown, the others are there for the script and hidden.
    assert 'id="map-table-satisfaction_rate" data-figure="satisfaction_rate">' in section
    assert 'id="map-table-received" data-figure="received" hidden>' in section
    satisfaction = section[section.index('id="map-table-satisfaction_rate"') :]
    satisfaction = satisfaction[: satisfaction.index("</table>")]
    # Lowest first, and the cells with nothing revisited are left out.
    assert satisfaction.index(EAST) < satisfaction.index(WEST)
    assert XIPAILOU not in satisfaction
    assert TIANJIAN not in satisfaction
    assert "0.0%" in satisfaction
    assert "100.0%" in satisfaction
    links = case_list_links(section)
    assert len(links) >= 10
    for href, text in links:
        query = urlsplit(href).query
        with clock.frozen(at(2027, 3, 1)):
            answer = client.get(f"/api/v1/cases?{query}&limit=1")
        assert answer.json()["count"] == int(text), (href, text)


# --- Heat ----------------------------------------------------------------------------------------------------------


def test_the_heat_squares_count_the_located_requests_of_the_period(
    march: dict[str, Case], client_for: Callable[[str], Client], world: World
) -> None:
    data = _map(client_for("tx_leader"), "j=430103&p=2026-03")
    heat = data["heat"]
    march_points = [
        (c.lon, c.lat)
        for c in march.values()
        if c.origin_path.startswith("430100/430103/")
        and _in_period(c, MARCH)
        and c.lon is not None
        and c.lat is not None
    ]
    assert heat["located"] == len(march_points) == 7
    # Counted in SQL, the same squares as the overview's counting in Python.
    node = world.j(TIANXIN)
    expected = heat_squares(node, march_points)
    assert heat["features"] == json.loads(json.dumps(expected["features"]))
    assert heat["legend"] == expected["legend"]
    assert sum(f["properties"]["count"] for f in heat["features"]) == 7
    assert "lon" not in json.dumps(heat)  # squares, never the points


# --- Periods: the fact scan of an odd run of days agrees with the monthly rollups -----------------------------


def test_an_odd_run_of_days_agrees_with_the_whole_month(
    march: dict[str, Case], world: World, monkeypatch: pytest.MonkeyPatch, client_for: Callable[[str], Client]
) -> None:
    scanned: list[Period] = []
    scan = figures_module.scan_breakdown

    def spy(node: Any, period: Period, dim: str) -> Any:
        scanned.append(period)
        return scan(node, period, dim)

    monkeypatch.setattr(figures_module, "scan_breakdown", spy)
    user = world.u("tx_leader")
    node = world.j(TIANXIN)
    month = {c.code: c.counts for c in geo.area_cells(user, node, MARCH, TODAY)}
    assert scanned == []  # whole months: the rollups
    # 15 February – 31 March: the fact scan; nothing of 天心区 was received in the February part.
    odd = Period(date(2026, 2, 15), date(2026, 3, 31))
    assert {c.code: c.counts for c in geo.area_cells(user, node, odd, TODAY)} == month
    assert scanned == [odd]
    # 3 – 31 March leaves out w1 and e1 (received 2 March), and nothing else.
    late = Period(date(2026, 3, 3), date(2026, 3, 31))
    counts = {c.code: c.counts for c in geo.area_cells(user, node, late, TODAY)}
    assert counts[WEST]["received"] == month[WEST]["received"] - 1
    assert counts[EAST]["received"] == month[EAST]["received"] - 1
    assert counts[EAST]["overdue_open"] == 0
    assert counts[XIPAILOU] == month[XIPAILOU]
    # The endpoint takes the same days.
    data = _map(client_for("tx_leader"), "j=430103&start=2026-02-15&end=2026-03-31")
    assert {code: _counts(data, code) for code in CELLS} == month


# --- Scope, errors, shapes -----------------------------------------------------------------------------------------


def test_another_districts_desk_gets_a_404(
    march: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    assert client_for("yh_dispatcher").get("/stats/map.json?j=430103&p=2026-03").status_code == 404
    assert client_for("tx_leader").get("/stats/map.json?j=430111&p=2026-03").status_code == 404
    assert client_for("pzj_dispatcher").get("/stats/map.json?j=430103&p=2026-03").status_code == 404
    # Without ?j= the user's own area: 雨花区's dispatcher sees only 雨花区's cell.
    data = _map(client_for("yh_dispatcher"), "p=2026-03")
    assert list(_by_code(data)) == ["430111001001001"]
    assert _counts(data, "430111001001001")["received"] == 1
    # A street's dispatcher: the cells of 坡子街 only.
    data = _map(client_for("pzj_dispatcher"), "j=430103002&p=2026-03")
    assert list(_by_code(data)) == [WEST, EAST, XIPAILOU]


def test_the_answer_is_compressed_for_a_browser(
    march: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    with clock.frozen(at(2027, 3, 1)):
        response = client_for("tx_leader").get(
            "/stats/map.json?j=430103&p=2026-03", headers={"accept-encoding": "gzip"}
        )
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "application/json"
    assert json.loads(gzip.decompress(response.content))["cells"]["features"]


def test_a_bad_period_is_a_422_naming_the_field(world: World, client_for: Callable[[str], Client]) -> None:
    response = client_for("tx_leader").get("/stats/map.json?p=2026-13", headers={"accept-language": "en"})
    assert response.status_code == 422
    assert response.json() == {
        "errors": [{"field": "p", "reason": "There is no month 13."}],
        "code": "invalid",
    }


def test_shapes_are_simplified_rounded_and_cached(march: dict[str, Case], world: World) -> None:
    # A wiggly edge of 200 vertices, far below a pixel of the district map, is simplified away.
    wiggly = [[112.90 + i * 0.000125, 28.10 + (i % 2) * 0.000001] for i in range(201)]
    ring = [*wiggly, [112.925, 28.15], [112.90, 28.15], [112.90, 28.10]]
    cell = GridCell.objects.get(code=WEST)
    GridCell.objects.filter(pk=cell.pk).update(boundary={"type": "Polygon", "coordinates": [ring]})
    user, node = world.u("tx_leader"), world.j(TIANXIN)
    tolerance = geo.tolerance_for((112.90, 28.00, 113.10, 28.20))
    assert 5 < tolerance * 111_320 < 30  # about a pixel of a 1,000-pixel map of a 20 km district
    cells = geo.area_cells(user, node, MARCH, TODAY)
    first = geo.cell_shapes(cells, tolerance)
    west = first[0]["coordinates"][0]
    assert len(west) <= 6
    assert all(len(str(x).split(".")[1]) <= geo.digits_for(tolerance) for x, _ in west)
    # Cached: a second answer reads no boundary from the database.
    with CaptureQueriesContext(connection) as queries:
        assert geo.cell_shapes(cells, tolerance) == first
    assert not any("boundary" in q["sql"] for q in queries.captured_queries)
    # A cell changed since (its updated_at) is read and simplified again.
    GridCell.objects.filter(pk=cell.pk).update(
        boundary=_rectangle(112.90, 28.10, 112.92, 28.15), updated_at=clock.now()
    )
    again = geo.cell_shapes(geo.area_cells(user, node, MARCH, TODAY), tolerance)
    assert again[0]["coordinates"][0][1][0] == pytest.approx(112.92)
    assert again[1:] == first[1:]


def test_the_dashboard_has_the_map_and_its_text_alternative(
    march: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    with clock.frozen(at(2027, 3, 1)):
        html = client_for("tx_leader").get("/stats/?j=430103&p=2026-03").content.decode()
    assert 'id="stats-map"' in html
    assert 'data-src="/stats/map.json?j=430103&amp;p=2026-03"' in html
    assert "stats/map.js" in html
    assert "leaflet/leaflet.js" in html
    table = html[html.index('id="map-table-received"') :]
    table = table[: table.index("</table>")]
    # Most first (west and east 3 each, in code order), 西牌楼 1; 天剑 received nothing: not listed.
    assert table.index(WEST) < table.index(EAST) < table.index(XIPAILOU)
    assert TIANJIAN not in table
