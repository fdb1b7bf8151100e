"""The grid worker's day on a phone (390 × 844): my grid on the map, reporting an event with a photo and
the phone's GPS position, verifying a reply on site, logging a household visit. Screenshots for the
README; axe-core and no sideways scrolling on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, FilePayload, Geolocation, Page, expect

from civicgrid.cases.models import Case, CasePhoto
from civicgrid.cases.workflow import Status
from civicgrid.fieldwork.models import HouseholdVisit
from tests.browser import check_accessibility, login, screenshot, tab_to
from tests.browser.conftest import PHONE
from tests.cases.helpers import build_catalog, new_case, reach
from tests.fieldwork.helpers import BJT_CELL, tiny_png
from tests.world import World

pytestmark = pytest.mark.browser

LEAFLET = (".leaflet-control-container", ".leaflet-pane")  # Leaflet's own widgets: checked by Leaflet
PHONE_WIDTH = 390
GPS: Geolocation = {"latitude": 28.11, "longitude": 112.91}  # inside grid cell BJT_CELL


def phone_screenshot(page: Page, name: str) -> None:
    """The whole page as a phone that tall would show it: with the viewport as high as the document, the
    bottom action bar (position: sticky) sits at the end instead of floating over the middle."""
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": height})
    screenshot(page, name)
    page.set_viewport_size(PHONE)


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width}px wide"


def checked(page: Page) -> None:
    fits_the_phone(page)
    check_accessibility(page, exclude=LEAFLET)


def test_a_grid_worker_works_the_grid_on_a_phone(
    phone_page: Page, phone_context: BrowserContext, bworld: World
) -> None:
    page = phone_page
    catalog = build_catalog()
    street = new_case(bworld, title="八角亭路口路灯不亮", description="路口两盏路灯连续三晚不亮。")
    replied = reach(Status.REPLIED, bworld, catalog)
    phone_context.grant_permissions(["geolocation"])
    phone_context.set_geolocation(GPS)
    login(page, "bjt_grid")

    # My grid: the cell on the map with its open cases as points, and the same cases as a list.
    page.goto("/field/")
    expect(page.locator("#field-map")).to_have_attribute("data-loaded", "2")
    expect(page.locator("#field-map path.leaflet-interactive")).to_have_count(3)  # the cell and 2 cases
    expect(page.locator("#cell-name")).to_contain_text(BJT_CELL)
    cases = page.locator("#open-cases li")
    expect(cases).to_have_count(2)
    expect(page.locator("#open-cases")).to_contain_text(street.number)
    expect(page.locator("#open-cases")).to_contain_text("八角亭路口路灯不亮")
    phone_screenshot(page, "field-grid.png")
    checked(page)

    # Report an event with a photo and the phone's GPS position.
    page.locator(".fw-actions a.primary").click()
    page.wait_for_url("**/field/report/?cell=*")
    page.locator("#id_category").select_option(catalog.road.code)
    page.locator("#id_title").fill("人行道井盖松动")
    tab_to(page, "#locate")  # the GPS button is reachable from the keyboard
    page.keyboard.press("Enter")
    expect(page.locator("#id_lon")).to_have_value("112.910000")
    expect(page.locator("#id_lat")).to_have_value("28.110000")
    expect(page.locator("#report-map")).to_have_attribute("data-point", "112.91,28.11")
    expect(page.locator("#locate-status")).not_to_be_empty()
    page.locator("#id_description").fill("八角亭路口人行道上一处井盖松动，踩上去晃动。")
    page.locator("#id_photo_1").set_input_files(
        files=[FilePayload(name="井盖.png", mimeType="image/png", buffer=tiny_png())]
    )
    page.locator("#id_address").fill("八角亭路口东侧人行道")
    phone_screenshot(page, "field-report.png")
    checked(page)
    page.locator("#report-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/field/report/430100-\d{4}-\d{6}/$"))
    number = page.locator("#case-number").inner_text()
    reported = Case.objects.get(number=number)
    assert (reported.channel, reported.kind, reported.created_by) == ("grid", "event", bworld.u("bjt_grid"))
    assert reported.grid_cell is not None
    assert reported.grid_cell.code == BJT_CELL
    assert (reported.lon, reported.lat) == (112.91, 28.11)
    assert CasePhoto.objects.filter(case=reported).count() == 1
    checked(page)

    # My tasks: the reply waits for an on-site check.
    page.goto("/field/tasks/")
    checked(page)
    page.locator(f"#tasks a[href='/field/tasks/{replied.number}/']").click()
    page.wait_for_url(f"**/field/tasks/{replied.number}/")
    expect(page.locator("#case-reply")).to_have_text("已修复")
    page.locator("#id_passed_0").check()
    page.locator("#id_note").fill("现场查看，路面已修复平整。")
    phone_screenshot(page, "field-task.png")
    checked(page)
    page.locator("#verify-form button[type=submit]").click()
    page.wait_for_url("**/field/tasks/")
    expect(page.locator(".messages")).to_contain_text(replied.number)
    replied.refresh_from_db()
    assert replied.status == Status.RESOLVED

    # A household visit, then the log.
    page.goto("/field/visits/new/")
    page.locator("#id_building").select_option("430103002001001B01")
    page.locator("#id_address").fill("2单元301室")
    page.locator("#id_household_head").fill("王秀英")
    page.locator("#id_purpose_3").check()  # safety check
    page.locator("#id_findings").fill("燃气软管老化开裂，建议尽快更换，三天后复查。")
    page.locator("#id_needs_follow_up").check()
    checked(page)
    page.locator("#visit-form button[type=submit]").click()
    page.wait_for_url("**/field/visits/")
    expect(page.locator("#visits li")).to_have_count(1)
    expect(page.locator("#visits")).to_contain_text("燃气软管老化开裂")
    visit = HouseholdVisit.objects.get()
    assert (visit.by, visit.purpose, visit.needs_follow_up) == (bworld.u("bjt_grid"), "safety_check", True)
    phone_screenshot(page, "field-visits.png")
    checked(page)


def test_a_report_without_a_description_is_answered_at_the_field(phone_page: Page, bworld: World) -> None:
    page = phone_page
    catalog = build_catalog()
    login(page, "bjt_grid")
    page.goto("/field/report/")
    page.locator("#id_category").select_option(catalog.road.code)
    page.locator("#id_title").fill("人行道井盖松动")
    page.locator("#id_lon").fill("112.91")
    page.locator("#id_lat").fill("28.11")
    page.keyboard.press("Tab")  # leaving the field draws the typed point on the map
    expect(page.locator("#report-map")).to_have_attribute("data-point", "112.91,28.11")
    page.locator("#id_address").fill("八角亭路口东侧人行道")
    page.locator("#report-form button[type=submit]").click()

    expect(page.locator("#id_description_error")).to_be_visible()
    expect(page.locator("#id_description")).to_have_attribute("aria-invalid", "true")
    page.locator(".error-summary a[href='#id_description']").click()
    expect(page.locator("#id_description")).to_be_focused()
    expect(page.locator("#id_title")).to_have_value("人行道井盖松动")
    expect(page.locator("#id_category")).to_have_value(catalog.road.code)
    expect(page.locator("#id_lon")).to_have_value("112.91")
    expect(page.locator("#id_address")).to_have_value("八角亭路口东侧人行道")
    assert not Case.objects.exists()
    checked(page)
