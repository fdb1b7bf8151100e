"""The service window as 坡子街's clerk (pzj_window): find an item, tick the materials, register a visit with
one material missing → the printed 一次性告知书; register again with everything → 受理回执 with the promised
date on the working-day calendar; and bad input kept at the field."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from civicgrid.services.actions import do_register_visit
from civicgrid.services.models import Outcome, WindowVisit
from civicgrid.workcalendar.calendar import current_calendar
from tests.browser import check_accessibility, login, screenshot, tab_to
from tests.services.helpers import Window, build_window
from tests.world import World

pytestmark = pytest.mark.browser

ITEM = "居住证办理（首次申领）"  # GA-001: 5 required materials, promised 10 calendar days


@pytest.fixture
def window(bworld: World) -> Window:
    return build_window(bworld, visits=False)


def _register(page: Page, *, name: str, phone: str) -> None:
    page.locator("#id_applicant_name").fill(name)
    page.locator("#id_applicant_phone").fill(phone)
    tab_to(page, "#visit-form button[type=submit]")  # the whole form is reachable by keyboard
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/window/visits/W\d{12}/$"))


def test_a_clerk_gives_the_one_time_notice_then_accepts(page: Page, window: Window) -> None:
    login(page, "pzj_window")
    page.goto("/window/")
    expect(page.locator("h1")).to_contain_text("便民服务窗口")
    check_accessibility(page)

    # Typing filters the items in place (htmx).
    with page.expect_response(
        lambda r: "/window/?" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.locator("#id_q").press_sequentially("居住证")
    items = page.locator("#item-results li")
    expect(items.first).to_contain_text(ITEM)
    expect(page.locator("#item-results")).not_to_contain_text("高龄津贴申请")
    items.get_by_role("link", name=ITEM).click()
    expect(page.locator("#item-h")).to_contain_text(ITEM)

    materials = list(window.item("GA-001").materials.order_by("order"))
    required = [m for m in materials if m.required]
    left_out = required[2]  # 就业、就读证明之一
    expect(page.locator("#visit-form input[name=materials]")).to_have_count(len(materials))
    for material in required:
        if material != left_out:
            page.locator(f"#visit-form label:has(input[value='{material.pk}'])").click()
    # The form follows the ticks: something required is missing → the one-time notice.
    expect(page.locator("#missing-summary")).to_contain_text(left_out.name)
    expect(page.locator("#visit-form input[name=outcome][value=notice]")).to_be_checked()
    _register(page, name="刘洋", phone="13812345678")

    notice_visit = WindowVisit.objects.get(applicant_name="刘洋")
    assert notice_visit.outcome == Outcome.NOTICE
    expect(page.locator(".messages")).to_contain_text(notice_visit.number)
    expect(page.locator("main")).to_contain_text("138****5678")
    check_accessibility(page)

    page.get_by_role("link", name="打印一次性告知书").click()
    page.wait_for_url(f"**/window/visits/{notice_visit.number}/notice/")
    expect(page.locator("h1")).to_have_text("一次性告知书")
    expect(page.locator(".missing-list li")).to_have_count(1)
    expect(page.locator(".missing-list")).to_contain_text(left_out.name)
    missing_rows = page.locator("tr.is-missing")
    expect(missing_rows).to_have_count(1)
    expect(missing_rows).to_contain_text(left_out.name)
    expect(page.locator(".doc-table tbody tr")).to_have_count(len(materials))  # the full list, once
    expect(page.locator("article")).to_contain_text("居住证暂行条例")
    expect(page.locator("article")).to_contain_text("坡子街街道便民服务中心一楼大厅")
    expect(page.locator("[data-print]")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("[data-print]")).to_be_hidden()  # the document prints alone
    expect(page.locator("header.topbar")).to_be_hidden()
    page.emulate_media(media="screen")
    screenshot(page, "window-notice.png")
    check_accessibility(page)

    # The resident comes back with everything: a new visit for the same item, accepted.
    page.get_by_role("link", name="返回办件详情").click()
    page.get_by_role("link", name="为该事项登记新办件").click()
    for material in required:
        page.locator(f"#visit-form label:has(input[value='{material.pk}'])").click()
    expect(page.locator("#missing-summary")).to_have_text("")
    expect(page.locator("#visit-form input[name=outcome][value=accepted]")).to_be_checked()
    _register(page, name="刘洋", phone="13812345678")

    accepted = WindowVisit.objects.filter(applicant_name="刘洋").latest("pk")
    assert accepted.outcome == Outcome.ACCEPTED
    promised = accepted.promised_date
    assert promised is not None
    expect(page.locator("#step-start button")).to_be_visible()  # the next steps are offered
    check_accessibility(page)
    page.get_by_role("link", name="打印回执").click()
    page.wait_for_url(f"**/window/visits/{accepted.number}/receipt/")
    expect(page.locator("h1")).to_have_text("受理回执")
    shown = f"{promised.year}年{promised.month}月{promised.day}日"
    expect(page.locator(".promised-date")).to_have_text(shown)
    # On the working-day calendar: at least the 10 calendar days after registration, and if later, only
    # because the days in between are weekends or holidays.
    cal = current_calendar()
    registered = accepted.registered_at.astimezone(cal.tz).date()
    earliest = registered + timedelta(days=10)
    assert promised >= earliest
    assert cal.is_working_day(promised)
    assert all(
        not cal.is_working_day(earliest + timedelta(days=n)) for n in range((promised - earliest).days)
    )
    expect(page.locator("article")).to_contain_text("坡子街街道便民服务中心综合窗口")  # where to collect
    for material in required:
        expect(page.locator("article")).to_contain_text(material.name)
    screenshot(page, "window-receipt.png")
    check_accessibility(page)

    # Both visits are in the list, found again by the resident's phone number.
    page.goto("/window/visits/?q=13812345678")
    expect(page.locator("main table tbody tr")).to_have_count(2)
    check_accessibility(page)

    # The desk now lists both visits; pick another item to show its checklist half ticked.
    page.goto("/window/?item=MZ-001")
    recent = page.locator("#recent-h + ul li")
    expect(recent).to_have_count(2)
    for material in list(window.item("MZ-001").materials.filter(required=True).order_by("order"))[:3]:
        page.locator(f"#visit-form label:has(input[value='{material.pk}'])").click()
    page.locator("#id_applicant_name").fill("陈桂英")
    expect(page.locator("#missing-summary")).not_to_have_text("")
    screenshot(page, "window-desk.png")
    check_accessibility(page)


def test_a_missing_name_is_shown_at_the_field_and_nothing_typed_is_lost(page: Page, window: Window) -> None:
    login(page, "pzj_window")
    page.goto("/window/?item=MZ-001")
    ticked = list(window.item("MZ-001").materials.order_by("order"))[:2]
    for material in ticked:
        page.locator(f"#visit-form label:has(input[value='{material.pk}'])").click()
    page.locator("#id_applicant_phone").fill("13700001111")
    page.locator("#id_note").fill("代办人为其女儿")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#visit-form button[type=submit]").click()
    assert posted.value.status == 422
    assert not WindowVisit.objects.exists()

    group = page.locator("#id_applicant_name_group")
    expect(group.locator(".field-error")).to_contain_text("必填")
    expect(page.locator("#id_applicant_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".error-summary a[href='#id_applicant_name']")).to_be_visible()
    expect(page.locator("#id_applicant_phone")).to_have_value("13700001111")
    expect(page.locator("#id_note")).to_have_value("代办人为其女儿")
    for material in window.item("MZ-001").materials.all():
        box = page.locator(f"#visit-form input[name=materials][value='{material.pk}']")
        if material in ticked:
            expect(box).to_be_checked()
        else:
            expect(box).not_to_be_checked()
    expect(page.locator("#visit-form input[name=outcome][value=notice]")).to_be_checked()
    check_accessibility(page)

    # Following the summary's link puts the cursor in the field.
    page.locator(".error-summary a[href='#id_applicant_name']").click()
    page.keyboard.type("陈桂英")
    expect(page.locator("#id_applicant_name")).to_have_value("陈桂英")


def test_another_centres_visit_is_not_found(page: Page, window: Window) -> None:
    elsewhere = do_register_visit(
        item=window.item("YB-001"),
        service_center=window.centers["yh"],
        applicant_name="外区居民",
        applicant_phone="13900001234",
        received=window.required_ids("YB-001"),
        outcome=Outcome.INSTANT,
        actor=None,
    )
    login(page, "pzj_window")
    for path in ("", "receipt/"):
        response = page.goto(f"/window/visits/{elsewhere.number}/{path}")
        assert response is not None
        assert response.status == 404
    expect(page.locator("main")).not_to_contain_text("外区居民")
