"""The statistics pages in Chromium: 天心区's leader opens 统计分析 from the navigation, reads this month's
figures (checked against counts worked out here from the case rows), follows a figure to the case list and
finds exactly those cases, opens the printable report, and both pages pass axe and fit a phone. The map:
the grid cells coloured by a figure chosen with the keyboard, the heat squares, a cell's popup whose link
opens exactly its cases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from civicgrid.cases import actions as a
from civicgrid.cases.models import Case
from civicgrid.grids.actions import do_import_grid_cells
from civicgrid.grids.importer import check_grid_import
from civicgrid.grids.lookup import reset_grid_index
from civicgrid.stats.refresh import do_refresh
from tests.browser import check_accessibility, login, screenshot, tab_to
from tests.browser.test_overview import MAP_PARTS, TIANXIN, ensure_default_limits, handling
from tests.cases.helpers import YH_POINT, build_catalog, new_case
from tests.world import World, square

pytestmark = pytest.mark.browser


@pytest.fixture
def counted(bworld: World) -> None:
    ensure_default_limits()
    catalog = build_catalog()
    now = timezone.now()
    handling(bworld, catalog, now - timedelta(hours=1), (112.91, 28.11), "路灯不亮")
    handling(bworld, catalog, now, (112.92, 28.12), "占道经营")
    handling(bworld, catalog, now, YH_POINT, "雨花区：不计入天心区")
    answered = new_case(bworld, actor=None, nature="consult", title="咨询：如何办理居住证")
    a.do_answer_directly(answered, answer="请携带身份证到街道便民服务中心办理", actor=None)
    a.do_void(new_case(bworld, actor=None, title="重复来电"), reason="重复来电", actor=None)
    while do_refresh(actor=None, limit=1000):
        pass


def _tianxin_this_month() -> list[Case]:
    today = timezone.localdate()
    return [
        c
        for c in Case.objects.all()
        if (c.origin_path.startswith(TIANXIN) or c.level_path.startswith(TIANXIN))
        and timezone.localtime(c.received_at).date() >= today.replace(day=1)
    ]


def test_a_leader_reads_the_statistics(page: Page, counted: None) -> None:
    rows = _tianxin_this_month()
    received = len(rows)
    due = sum(1 for c in rows if c.status not in {"void", "merged", "split", "withdrawn"})
    assert (received, due) == (4, 3)
    login(page, "tx_leader")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计分析").click()
    page.wait_for_url("**/stats/")
    expect(page.locator("h1")).to_contain_text("天心区统计分析")
    expect(page.locator("#fig-received strong")).to_have_text(str(received))
    expect(page.locator("#fig-due strong")).to_have_text(str(due))
    expect(page.locator("#rate-direct_answer_rate .num-n")).to_have_text("1")
    expect(page.locator("#rate-direct_answer_rate .num-d")).to_have_text(str(due))
    expect(page.locator("#trend-chart svg rect")).to_have_count(13)
    check_accessibility(page)
    screenshot(page, "statistics.png")

    # A figure opens the case list with exactly its cases.
    page.locator("#fig-due a").click()
    page.wait_for_url(re.compile(r"/cases/\?.*counted=due"))
    expect(page.locator('[data-queue="all"] .badge')).to_have_text(str(due))

    page.go_back()
    page.locator("#report-link").click()
    page.wait_for_url("**/stats/report/**")
    expect(page.locator("#summary")).to_contain_text(f"共受理群众诉求 {received} 件")
    check_accessibility(page)


def test_the_statistics_fit_a_phone(phone_page: Page, counted: None) -> None:
    login(phone_page, "tx_leader")
    phone_page.goto("/stats/")
    expect(phone_page.locator("#fig-received strong")).to_be_visible()
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"


BJT_CELL, XPL_CELL = "430103002001001", "430103002002001"  # 八角亭's cell; 西牌楼's, added empty below


@pytest.fixture
def with_an_empty_cell(bworld: World) -> None:
    """西牌楼社区 gets a grid cell with no case in it: a count of 0, and "no data" for every rate."""
    feature = {
        "type": "Feature",
        "geometry": square(112.95, 28.10, 0.05),
        "properties": {"code": XPL_CELL, "household_count": 100},
    }
    plan = check_grid_import({"type": "FeatureCollection", "features": [feature]})
    assert plan.ok, plan.errors
    do_import_grid_cells(plan, actor=None)
    reset_grid_index()


def test_the_statistics_map(page: Page, with_an_empty_cell: None, counted: None) -> None:
    in_cell = [c for c in _tianxin_this_month() if c.grid_cell and c.grid_cell.code == BJT_CELL]
    assert len(in_cell) == 4  # every case of 天心区 this month lies in 八角亭's cell
    login(page, "tx_leader")
    page.goto("/stats/")
    the_map = page.locator("#stats-map")
    expect(the_map).to_have_attribute("data-loaded", "true")
    assert the_map.get_attribute("data-error") is None
    expect(page.locator("#stats-map path.grid-cell")).to_have_count(2)
    expect(page.locator("#stats-map-legend li").first).to_contain_text("已受理")
    expect(page.locator("#stats-map-status")).to_contain_text("2 个网格")
    expect(page.locator("#map-table-received")).to_be_visible()
    expect(page.locator("#map-table-received tbody tr")).to_have_count(
        1
    )  # the empty cell is not in the top list

    # The figure, chosen with the keyboard: the map and the table under it follow.
    tab_to(page, "#map-figure", limit=300)
    page.select_option("#map-figure", "satisfaction_rate")
    expect(the_map).to_have_attribute("data-figure", "satisfaction_rate")
    expect(page.locator("#map-table-satisfaction_rate")).to_be_visible()
    expect(page.locator("#map-table-received")).to_be_hidden()
    expect(page.locator("#stats-map path.no-data")).to_have_count(2)  # nothing revisited anywhere
    expect(page.locator("#stats-map-legend")).to_contain_text("无数据")
    assert "fig=satisfaction_rate" in page.url
    page.select_option("#map-figure", "close_rate")
    expect(page.locator("#stats-map path.no-data")).to_have_count(1)  # 西牌楼: nothing due, no rate

    # The heat layer, by keyboard (arrow keys move within the radio group), and back.
    tab_to(page, 'input[name="map-layer"][value="cells"]')
    page.keyboard.press("ArrowDown")
    expect(the_map).to_have_attribute("data-layer", "heat")
    assert page.locator("#stats-map path.heat-square").count() >= 1
    expect(page.locator("#stats-map path.grid-cell")).to_have_count(0)
    expect(page.locator("#stats-map-status")).to_contain_text("4 件带有位置")
    page.keyboard.press("ArrowUp")
    expect(the_map).to_have_attribute("data-layer", "cells")
    page.select_option("#map-figure", "received")

    check_accessibility(page, exclude=MAP_PARTS)
    screenshot(page, "statistics-map.png")

    # A cell's popup names it and links to exactly its cases.
    page.locator(f'#stats-map path[data-code="{BJT_CELL}"]').click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(BJT_CELL)
    expect(popup).to_contain_text("已受理")
    popup.get_by_role("link", name="4").click()
    page.wait_for_url(re.compile(rf"/cases/\?.*grid={BJT_CELL}"))
    expect(page.locator('[data-queue="all"] .badge')).to_have_text("4")
