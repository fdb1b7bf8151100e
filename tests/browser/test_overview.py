"""The leaders' overview in Chromium: 天心区's leader sees today's and this month's figures (checked against
counts worked out here from the case rows), the map draws the open cases with the overdue one in red, a
popup shows a resident's title as text, a league-table figure leads to the case list filtered by unit, and
the page passes axe and fits a phone."""

from __future__ import annotations

import importlib
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from civicgrid.cases import actions as a
from civicgrid.cases import limits
from civicgrid.cases.models import Case, TimeLimit
from civicgrid.lib.clock import frozen
from tests.browser import check_accessibility, login, screenshot, tab_to
from tests.cases.helpers import YH_POINT, Catalog, build_catalog, new_case
from tests.world import World

pytestmark = pytest.mark.browser

CST = ZoneInfo("Asia/Shanghai")
MAP_PARTS = (".leaflet-control-container", ".leaflet-pane")
TIANXIN = "430100/430103/"
OPEN = {"received", "confirming", "registered", "dispatched", "return_requested", "handling", "waiting"}
OPEN |= {"suspended", "replied"}
DONE = {"resolved", "revisited", "archived", "direct_answered"}
HTML_TITLE = "<img src=x onerror=alert(1)>井盖松动"


def ensure_default_limits() -> None:
    """The time limits of migration cases/0002: a transactional test run before this one flushes them."""
    if not TimeLimit.objects.exists():
        importlib.import_module("civicgrid.cases.migrations.0002_default_limits").seed(django_apps, None)
    limits.invalidate()


def handling(world: World, catalog: Catalog, at: datetime, point: tuple[float, float], title: str) -> Case:
    with frozen(at):
        case = new_case(world, actor=None, point=point, title=title)
        a.do_register(case, category=catalog.road, actor=None)
        a.do_dispatch(case, lead=world.units["430103-cg" if point != YH_POINT else "430111-cg"], actor=None)
        a.do_accept(case, actor=None)
    return case


@pytest.fixture
def cases(bworld: World) -> dict[str, Case]:
    ensure_default_limits()
    catalog = build_catalog()
    now = timezone.now()
    made = {
        # Handled for a month without a reply: long past its 5-working-day deadline.
        "late": handling(bworld, catalog, now - timedelta(days=30), (112.91, 28.11), "逾期未办：路灯不亮"),
        "fresh": handling(bworld, catalog, now, (112.92, 28.12), "新件：占道经营"),
        "html": new_case(bworld, actor=None, point=(112.93, 28.13), title=HTML_TITLE),
        "answered": new_case(bworld, actor=None, nature="consult", title="咨询：如何办理居住证"),
        "void": new_case(bworld, actor=None, title="重复来电"),
        "yuhua": handling(bworld, catalog, now - timedelta(days=30), YH_POINT, "雨花区：逾期"),
    }
    a.do_answer_directly(made["answered"], answer="请携带身份证到街道便民服务中心办理", actor=None)
    a.do_void(made["void"], reason="重复来电", actor=None)
    return made


def expected_figures() -> dict[str, int]:
    """The headline figures, counted here in Python from the rows (not with the overview's queries)."""
    now = timezone.now()
    today = now.astimezone(CST).date()
    rows = [
        c for c in Case.objects.all() if c.origin_path.startswith(TIANXIN) or c.level_path.startswith(TIANXIN)
    ]

    def day(at: datetime | None) -> date | None:
        return at.astimezone(CST).date() if at else None

    def this_month(at: datetime) -> bool:
        local = at.astimezone(CST).date()
        return today.replace(day=1) <= local <= today

    def overdue(c: Case) -> bool:
        return c.status in OPEN and (
            (c.due_at is not None and c.due_at < now) or c.timing in ("overdue", "serious")
        )

    return {
        "fig-received-today": sum(1 for c in rows if day(c.received_at) == today),
        "fig-received-month": sum(1 for c in rows if this_month(c.received_at)),
        "fig-closed-today": sum(1 for c in rows if c.status in DONE and day(c.closed_at) == today),
        "fig-open": sum(1 for c in rows if c.status in OPEN),
        "fig-overdue": sum(1 for c in rows if overdue(c)),
    }


def test_a_leader_reads_the_overview(page: Page, cases: dict[str, Case]) -> None:
    expected = expected_figures()
    assert expected["fig-open"] == 3
    assert expected["fig-overdue"] == 1
    login(page, "tx_leader")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="辖区概览").click()
    page.wait_for_url("**/overview/")
    expect(page.locator("h1")).to_contain_text("天心区辖区概览")
    for element_id, value in expected.items():
        expect(page.locator(f"#{element_id} strong")).to_have_text(str(value))
    expect(page.locator("#fig-overdue")).to_have_class(re.compile(r"\balert\b"))

    # The map: three open cases as dots, the overdue one red, and density squares under them.
    the_map = page.locator("#overview-map")
    expect(the_map).to_have_attribute("data-loaded", "3")
    assert the_map.get_attribute("data-error") is None
    expect(the_map).to_have_attribute("data-overdue", "1")
    expect(page.locator("#overview-map path.case-point")).to_have_count(3)
    expect(page.locator("#overview-map path.case-overdue")).to_have_count(1)
    assert page.locator("#overview-map path.heat-square").count() >= 1
    assert page.locator("#map-legend .swatch").count() >= 1  # the squares' classes, added by overview.js
    expect(page.locator("#map-status")).to_contain_text("3")
    check_accessibility(page, exclude=MAP_PARTS)
    screenshot(page, "overview.png")
    tab_to(page, "#fig-overdue")  # the figures are links, reachable by keyboard

    # A popup names the case and links to it; a resident's title is text, never markup.
    page.locator("#overview-map path.case-overdue").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name=cases["late"].number)).to_have_attribute(
        "href", f"/cases/{cases['late'].number}/"
    )
    expect(popup).to_contain_text("逾期未办：路灯不亮")
    page.locator(".leaflet-popup-close-button").click()
    expect(popup).to_have_count(0)
    # The blue dots are drawn newest first, and the case with the markup title is the newest.
    page.locator("#overview-map path.case-point:not(.case-overdue)").first.click()
    expect(popup).to_contain_text(cases["html"].number)
    expect(popup).to_contain_text(HTML_TITLE)
    expect(popup.locator("img")).to_have_count(0)

    # The overdue list and the league tables; 雨花区's case is nowhere.
    expect(page.locator("#overdue-cases tbody tr")).to_have_count(1)
    expect(page.locator("#overdue-cases tbody tr").first).to_contain_text(cases["late"].number)
    expect(page.locator("main")).not_to_contain_text("雨花区：逾期")

    unit_link = page.locator("#units-overdue a.num-n").first
    expect(unit_link).to_have_text("1")
    unit_link.click()
    page.wait_for_url(re.compile(r"/cases/\?.*unit=430103-cg"))
    assert "overdue=true" in page.url
    assert "jurisdiction=430103" in page.url


def test_another_district_is_not_found(page: Page, cases: dict[str, Case]) -> None:
    login(page, "tx_leader")
    response = page.goto("/overview/?j=430111")
    assert response is not None
    assert response.status == 404
    expect(page.locator("#overview-map")).to_have_count(0)
    assert page.request.get("/overview/map.geojson?j=430111").status == 404


def test_the_overview_fits_a_phone(phone_page: Page, cases: dict[str, Case]) -> None:
    page = phone_page
    login(page, "tx_leader")
    page.goto("/overview/?j=430103002")
    expect(page.locator("#overview-map")).to_have_attribute("data-loaded", "3")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 2, f"the page scrolls sideways: {width}px wide"
    check_accessibility(page, exclude=MAP_PARTS)
    screenshot(page, "overview-phone.png")
