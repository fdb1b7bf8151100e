"""The grid map: jurisdiction tree (htmx), Leaflet drawing of the grid cells, the cell table, and scoping."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import login, screenshot

pytestmark = pytest.mark.browser

CELL = "430103002001001"
CELL_STROKE = "#1a7f37"  # map.js styles grid cells with this colour, jurisdiction areas with others


def test_a_leader_browses_the_tree_and_the_map(page: Page) -> None:
    login(page, "tx_leader")
    page.goto("/map/")
    page.wait_for_url("**/map/?j=430103")  # the user's own jurisdiction is the entry point
    assert page.evaluate("typeof L === 'object' && typeof htmx === 'object'"), "Leaflet and htmx load"

    # The tree: 天心区's streets; opening one loads its communities through htmx.
    tree = page.locator("aside.tree-panel")
    expect(tree.locator("> ul.tree > li")).to_have_count(2)
    street = (
        tree.locator("> ul.tree > li")
        .filter(has=page.get_by_role("link", name="坡子街街道"))
        .locator("> details")
    )
    expect(street.locator(".subtree li")).to_have_count(0)
    with page.expect_response("**/map/tree/430103002/") as children:
        street.locator("summary").click()
    assert children.value.request.headers.get("hx-request") == "true"
    communities = street.locator(".subtree li")
    expect(communities).to_have_count(2)
    expect(communities.first).to_contain_text("八角亭社区")
    expect(communities.last).to_contain_text("西牌楼社区")

    # The map draws the district, its two streets and the one grid cell.
    map_el = page.locator("#map[data-loaded]")
    expect(map_el).to_have_attribute("data-loaded", "1")
    assert page.locator("#map").get_attribute("data-error") is None
    expect(page.locator("#map path.leaflet-interactive")).to_have_count(4)
    cell = page.locator(f"#map path.leaflet-interactive[stroke='{CELL_STROKE}']")
    expect(cell).to_have_count(1)

    cell.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("八角亭社区第1网格")
    expect(popup).to_contain_text(CELL)
    expect(popup).to_contain_text("bjt_leader")
    expect(popup).to_contain_text("bjt_grid")

    row = page.locator(f"#cell-{CELL}")
    expect(row).to_contain_text("八角亭社区第1网格")
    expect(row).to_contain_text("bjt_leader")
    expect(row).to_contain_text("420")
    screenshot(page, "map.png")


@pytest.mark.parametrize(
    ("username", "codes"),
    [
        # the district above their community, and a neighbouring community
        ("bjt_grid", ["430103", "430103002002"]),
        # another district, even for its administrator
        ("yh_admin", ["430103"]),
    ],
)
def test_it_hides_jurisdictions_outside_the_users_own(page: Page, username: str, codes: list[str]) -> None:
    login(page, username)

    for code in codes:  # editing the URL does not help
        response = page.goto(f"/map/?j={code}")
        assert response is not None
        assert response.status == 404, code
        expect(page.locator("#map")).to_have_count(0)
        assert page.request.get(f"/map/tree/{code}/").status == 404, code
        assert page.request.get(f"/api/v1/jurisdictions/{code}/grid-cells.geojson").status == 404, code


def test_the_map_fits_a_phone(phone_page: Page) -> None:
    page = phone_page
    login(page, "bjt_grid")
    page.goto("/map/")
    page.wait_for_url("**/map/?j=430103002001")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "1")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 2, f"the page scrolls sideways: {width}px wide"
    box = page.locator("#map").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390 + 1
    assert box["height"] >= 200
    expect(page.locator(f"#map path.leaflet-interactive[stroke='{CELL_STROKE}']")).to_be_visible()
    screenshot(page, "map-phone.png")
