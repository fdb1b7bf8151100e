"""Possible duplicates (疑似重复) in Chromium: a dispatcher opens a second call about the same broken street
lamps, sees the first case in the panel and merges the second into it in one click (and a confirmation); a
hotline operator typing a call sees the open case like it nearby, opening in a new tab. Both pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Status
from tests.browser import check_accessibility, login, screenshot
from tests.cases.helpers import new_case
from tests.world import World

pytestmark = pytest.mark.browser

MAP_PARTS = (".leaflet-control-container", ".leaflet-pane")
NEAR = (112.911, 28.111)  # ~150 m from the helpers' BJT_POINT, in 八角亭
TITLE = "八角亭小区门口路灯不亮"
TEXT = "八角亭小区东门口的三盏路灯已经坏了一个多星期，晚上一片漆黑，老人小孩出门很不安全，请尽快修好。"


def test_a_dispatcher_merges_a_planted_duplicate_in_one_click(page: Page, bworld: World) -> None:
    original = new_case(bworld, title=TITLE, description=TEXT)
    second = new_case(
        bworld,
        point=NEAR,
        title="反映八角亭小区门口路灯坏了",
        description="你好，我要反映一下，八角亭小区东门口路灯坏了一个多星期，晚上出门很不安全，希望尽快处理。",
    )
    unrelated = new_case(bworld, title="楼上装修噪音扰民", description="楼上邻居每天早上七点就开始电钻装修。")
    login(page, "tx_dispatcher")
    page.goto(f"/cases/{second.number}/")
    panel = page.locator("#duplicates")
    item = panel.locator(f"#duplicate-{original.number}")
    expect(item).to_be_visible()
    expect(item.get_by_role("link", name=original.number)).to_have_attribute(
        "href", f"/cases/{original.number}/"
    )
    expect(item).to_contain_text(TITLE)
    expect(panel.locator(f"#duplicate-{unrelated.number}")).to_have_count(0)
    check_accessibility(page, exclude=MAP_PARTS)

    # One click opens the confirmation (a disclosure: keyboard and screen readers know it), one confirms.
    confirm = item.locator("details.merge-confirm")
    confirm.locator("summary").click()
    expect(confirm.locator("button[type=submit]")).to_be_visible()
    screenshot(page, "triage-duplicates.png")
    check_accessibility(page, exclude=MAP_PARTS)
    assert Case.objects.get(pk=second.pk).status == Status.RECEIVED  # nothing happens before the confirmation
    confirm.locator("button[type=submit]").click()
    page.wait_for_url(f"**/cases/{second.number}/#timeline-h")
    second.refresh_from_db()
    assert second.status == Status.MERGED
    assert second.duplicate_of_id == original.pk
    expect(page.get_by_role("link", name=original.number).first).to_be_visible()  # 并入 → the master
    expect(page.locator("#duplicates")).to_have_count(0)  # a merged case has no panel


def test_the_hotline_shows_similar_open_cases_as_the_operator_types(page: Page, bworld: World) -> None:
    original = new_case(bworld, title=TITLE, description=TEXT)
    login(page, "tx_hotline")
    page.goto("/hotline/")
    results = page.locator("#triage-duplicates-results")
    expect(results.locator("li")).to_have_count(0)
    page.locator("#id_jurisdiction").select_option("430103002001")
    with page.expect_response(lambda r: r.url.endswith("/triage/duplicates/") and r.status == 200):
        page.locator("#id_title").press_sequentially("八角亭门口路灯坏了", delay=20)
    expect(results.locator(f"#duplicate-{original.number}")).to_be_visible()
    link = results.get_by_role("link", name=original.number)
    expect(link).to_have_attribute("target", "_blank")
    check_accessibility(page)
    # Another request altogether: the list empties.
    page.locator("#id_title").fill("")
    page.locator("#id_description").fill("楼上装修噪音扰民，每天早上七点就开始电钻")
    expect(results.locator("li")).to_have_count(0)
    check_accessibility(page)
    assert Case.objects.count() == 1  # looking is not taking in
