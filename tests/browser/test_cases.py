"""The case pages in Chromium: a dispatcher dispatches (one case from its page, others in bulk), a handler
accepts, asks for an extension (a mistake first) and replies, the supervisor approves the extension and
verifies the reply. Every page passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from civicgrid.cases.models import Case, ExtensionRequest
from civicgrid.cases.workflow import Status
from tests.browser import check_accessibility, login, logout, screenshot, tab_to
from tests.cases.helpers import Catalog, build_catalog, reach
from tests.world import World

pytestmark = pytest.mark.browser

MAP_PARTS = (".leaflet-control-container", ".leaflet-pane")


@pytest.fixture
def catalog(bworld: World) -> Catalog:
    return build_catalog()


def open_action(page: Page, code: str) -> None:
    page.locator(f"#act-{code} > summary").click()
    expect(page.locator(f"#act-{code} form")).to_be_visible()


def test_a_dispatcher_dispatches_from_the_queue(page: Page, bworld: World, catalog: Catalog) -> None:
    first = reach(Status.REGISTERED, bworld, catalog)
    second = reach(Status.REGISTERED, bworld, catalog)
    third = reach(Status.REGISTERED, bworld, catalog)
    login(page, "tx_dispatcher")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="诉求案件").click()
    page.locator("a[data-queue=dispatch]").click()
    expect(page.locator("#case-list tbody tr")).to_have_count(3)
    check_accessibility(page)
    screenshot(page, "cases-queue.png")

    # One case from its page: the action panel offers dispatch; the unit list puts the category's type first.
    page.get_by_role("link", name=first.number).click()
    expect(page.locator("#case-status")).to_have_text("已立案")
    open_action(page, "dispatch")
    page.locator("#id_dispatch-lead_unit").select_option("430103-cg")
    page.locator("#act-dispatch button[type=submit]").click()
    expect(page.locator("#case-status")).to_have_text("待签收")
    expect(page.locator("#timeline li").last).to_contain_text("派遣")
    check_accessibility(page, exclude=MAP_PARTS)

    # The other two in bulk, from the queue, by keyboard as far as the checkboxes go.
    page.goto("/cases/?queue=dispatch")
    tab_to(page, f"#pick-{second.number}")
    page.keyboard.press("Space")
    page.locator(f"#pick-{third.number}").check()
    page.locator("#bulk-lead").select_option("430103-cg")
    page.locator("#bulk-dispatch button[type=submit]").click()
    expect(page.locator(".messages li.success")).to_contain_text(second.number)
    expect(page.locator("#case-list tbody tr")).to_have_count(1)  # "no cases here"
    for case in (first, second, third):
        case.refresh_from_db()
        assert case.status == Status.DISPATCHED


def test_a_handler_accepts_asks_for_more_time_and_replies(
    page: Page, bworld: World, catalog: Catalog
) -> None:
    case = reach(Status.DISPATCHED, bworld, catalog)
    from civicgrid.cases.actions import do_assist_accept, do_assist_reply
    from tests.cases.helpers import assist_of

    login(page, "tx_cg_handler")
    page.goto("/cases/?queue=accept")
    page.get_by_role("link", name=case.number).click()
    open_action(page, "accept")
    page.locator("#act-accept button[type=submit]").click()
    expect(page.locator("#case-status")).to_have_text("办理中")

    # A mistake first: no reason. The message is at the field and the amount typed is still there.
    open_action(page, "request_extension")
    page.locator("#id_request_extension-amount").fill("2")
    page.locator("#id_request_extension-time_unit").select_option("work_day")
    page.locator("#act-request_extension button[type=submit]").click()
    expect(page.locator("#id_request_extension-reason_error")).to_contain_text("必填")
    expect(page.locator("#id_request_extension-amount")).to_have_value("2")
    expect(page.locator("#id_request_extension-reason")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page, exclude=MAP_PARTS)
    page.locator("#id_request_extension-reason").fill("需与住建部门协调施工")
    page.locator("#act-request_extension button[type=submit]").click()
    expect(page.locator(".messages li.success")).to_be_visible()
    assert ExtensionRequest.objects.get(case=case).reason == "需与住建部门协调施工"

    # The co-handling unit answers (through the actions: its own page is the same page), then the reply.
    case.refresh_from_db()
    do_assist_accept(case, assignment=assist_of(case), actor=bworld.u("tx_zj_handler"))
    do_assist_reply(case, assignment=assist_of(case), reply="已配合核查", actor=bworld.u("tx_zj_handler"))
    page.reload()
    open_action(page, "reply")
    page.locator("#id_reply-reply").fill("路面已修复，已恢复通行。")
    page.locator("#act-reply button[type=submit]").click()
    expect(page.locator("#case-status")).to_have_text("已答复")
    expect(page.locator("#case-reply")).to_contain_text("路面已修复")
    expect(page.locator("#no-actions")).to_be_visible()  # nothing left for the handler
    screenshot(page, "cases-case.png")


def test_the_supervisor_approves_the_extension_and_verifies(
    page: Page, bworld: World, catalog: Catalog
) -> None:
    from civicgrid.cases.actions import do_reply, do_request_extension

    case = reach(Status.HANDLING, bworld, catalog)
    do_request_extension(
        case, amount=2, reason="需协调", time_unit="work_day", actor=bworld.u("tx_cg_handler")
    )
    login(page, "tx_supervisor")
    page.goto(f"/cases/{case.number}/")
    open_action(page, "decide_extension")
    page.locator("#act-decide_extension input[value=true]").check()
    page.locator("#act-decide_extension button[type=submit]").click()
    expect(page.locator(".messages li.success")).to_be_visible()
    assert ExtensionRequest.objects.get(case=case).status == "approved"

    case.refresh_from_db()
    _reply_with_assist(bworld, case)
    case.refresh_from_db()
    do_reply(Case.objects.get(pk=case.pk), reply="已修复", actor=bworld.u("tx_cg_handler"))
    page.reload()
    open_action(page, "verify")
    page.locator("#act-verify input[value=true]").check()
    page.locator("#id_verify-note").fill("现场核查属实")
    page.locator("#act-verify button[type=submit]").click()
    expect(page.locator("#case-status")).to_have_text("已办结")
    check_accessibility(page, exclude=MAP_PARTS)
    screenshot(page, "cases-verified.png")
    logout(page)


def _reply_with_assist(world: World, case: Case) -> None:
    from civicgrid.cases.actions import do_assist_accept, do_assist_reply
    from tests.cases.helpers import assist_of

    do_assist_accept(case, assignment=assist_of(case), actor=world.u("tx_zj_handler"))
    do_assist_reply(case, assignment=assist_of(case), reply="已配合", actor=world.u("tx_zj_handler"))


def test_another_districts_case_is_not_found(page: Page, bworld: World, catalog: Catalog) -> None:
    from tests.cases.helpers import YH_POINT, new_case

    theirs = new_case(bworld, actor="yh_dispatcher", point=YH_POINT)
    login(page, "tx_cg_handler")
    response = page.goto(f"/cases/{theirs.number}/")
    assert response is not None
    assert response.status == 404
