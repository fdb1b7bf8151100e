"""The staff directory: htmx search, masked phones, staff detail, and revealing a phone (logged)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from civicgrid.core.models import PersonalDataAccess
from tests.browser import login, screenshot
from tests.world import World

pytestmark = pytest.mark.browser

MASKED = re.compile(r"^1\d{2}\*{4}\d{4}$")


def test_a_leader_searches_the_directory_and_sees_masked_phones(page: Page) -> None:
    login(page, "tx_leader")
    page.goto("/staff/")

    rows = page.locator("#staff-rows tbody tr")
    expect(rows).to_have_count(15)  # everyone with a role in 天心区, and nobody from 雨花区 or the city
    expect(page.locator("#staff-rows")).not_to_contain_text("yh_admin")
    expect(page.locator("#staff-rows")).not_to_contain_text("cs_dispatcher")
    phones = rows.locator("td:nth-child(3)").all_inner_texts()
    assert phones, "no phone column"
    assert all(MASKED.match(p) for p in phones), phones
    assert "13900000013" not in page.content()
    screenshot(page, "staff.png")

    # Typing filters the rows in place (htmx), without reloading the page.
    page.evaluate("window.__same_page = true")
    with page.expect_response(
        lambda r: "/staff/?" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.locator("#id_q").press_sequentially("bjt")
    expect(rows).to_have_count(4)
    expect(rows.locator("td:nth-child(2)")).to_have_text(
        ["bjt_building", "bjt_cc_handler", "bjt_grid", "bjt_leader"]
    )
    assert page.evaluate("window.__same_page") is True

    rows.locator("a", has_text="bjt_grid").click()
    page.wait_for_url(re.compile(r"/staff/\d+/$"))
    expect(page.locator("h1")).to_contain_text("bjt_grid")
    expect(page.locator("#phone")).to_have_text("139****0013")
    expect(page.locator("#reveal")).to_have_count(0)  # a leader may not unmask phones
    expect(page.locator("main")).to_contain_text("430103002001001")


def test_a_dispatcher_reveals_a_phone_with_a_purpose(page: Page, bworld: World) -> None:
    member = bworld.u("bjt_grid")
    login(page, "tx_dispatcher")
    page.goto(f"/staff/{member.pk}/")
    expect(page.locator("#phone")).to_have_text("139****0013")
    purpose = page.locator("#reveal input[name=purpose]")
    button = page.locator("#reveal button[type=submit]")

    # Empty: the browser refuses to send the form (the field is required) and says so at the field.
    button.click()
    assert purpose.evaluate("el => el.validity.valueMissing") is True
    expect(page.locator("#reveal strong")).to_have_count(0)

    purpose.fill("催办工单")
    with page.expect_response(f"**/staff/{member.pk}/phone/") as shown:
        button.click()
    assert shown.value.status == 200
    expect(page.locator("#reveal strong")).to_have_text("13900000013")
    expect(page.locator("#reveal small")).to_be_visible()  # "This view has been logged."
    assert page.url.endswith(f"/staff/{member.pk}/")  # swapped in place, no navigation

    access = PersonalDataAccess.objects.get()
    assert access.actor == bworld.u("tx_dispatcher")
    assert (access.subject_type, access.subject_id, access.field) == (
        "accounts.user",
        str(member.pk),
        "phone",
    )
    assert access.purpose == "催办工单"


# htmx 2 does not swap 4xx responses by default, so the form with its error never replaces the old one.
def test_a_purpose_of_only_spaces_is_refused_at_the_field(page: Page, bworld: World) -> None:
    member = bworld.u("bjt_grid")
    login(page, "tx_dispatcher")
    page.goto(f"/staff/{member.pk}/")

    page.locator("#reveal input[name=purpose]").fill("   ")  # passes the browser's check, not the server's
    with page.expect_response(f"**/staff/{member.pk}/phone/") as refused:
        page.locator("#reveal button[type=submit]").click()
    assert refused.value.status in (400, 422)
    assert not PersonalDataAccess.objects.exists()
    expect(page.locator("#reveal .field-error")).to_be_visible(timeout=1_000)
    expect(page.locator("#reveal input[name=purpose]")).to_be_visible()
    expect(page.locator("#phone")).to_have_text("139****0013")


def test_a_window_clerk_may_not_open_the_directory(page: Page) -> None:
    login(page, "pzj_window")

    response = page.goto("/staff/")
    assert response is not None
    assert response.status == 403
    expect(page.locator("#staff-rows")).to_have_count(0)


def test_the_staff_link_is_only_shown_to_those_who_may_open_the_directory(page: Page) -> None:
    login(page, "pzj_window")

    expect(page.locator("header nav a[href='/staff/']")).to_have_count(0, timeout=1_000)
