"""The hotline operator's main path, by keyboard: a repeat caller is recognised by their phone and answered
from the knowledge base (直接答复); the next call becomes a case; bad input is answered at the fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Status
from civicgrid.demo.context import DemoContext
from civicgrid.hotline import demo
from civicgrid.hotline.models import AnswerUse, KnowledgeEntry
from tests.browser import check_accessibility, login, screenshot, tab_to
from tests.cases.helpers import build_catalog, new_case
from tests.world import World

pytestmark = pytest.mark.browser

REPEAT_CALLER = "13712345678"
NUMBER = re.compile(r"^430100-\d{4}-\d{6}$")


def _knowledge_base() -> None:
    """The demo's 常见问题 (the test world has 长沙市 and 天心区; the categories are the test catalogue's)."""
    demo.load(DemoContext(data_dir=Path("."), say=lambda _text: None))


def test_an_operator_answers_a_repeat_caller_directly_and_takes_the_next_call_in(
    page: Page, bworld: World
) -> None:
    build_catalog()
    _knowledge_base()
    earlier = new_case(bworld, title="小区路灯不亮", reporter_phone=REPEAT_CALLER, nature="help")
    entry = KnowledgeEntry.objects.get(title="社保卡丢失了怎么补办？")
    login(page, "tx_hotline")
    page.goto("/hotline/")

    # The phone field has the focus; Enter looks the caller up in place, without submitting the form.
    expect(page.locator("#id_phone")).to_be_focused()
    page.keyboard.type(REPEAT_CALLER)
    page.evaluate("window.__same_page = true")
    with page.expect_response("**/hotline/caller/"):
        page.keyboard.press("Enter")
    panel = page.locator("#caller-panel")
    expect(panel.locator(".repeat-caller")).to_contain_text("137****5678")
    expect(panel.locator("tbody tr")).to_have_count(1)
    expect(panel.locator("tbody")).to_contain_text(earlier.number)
    expect(panel.locator("tbody")).to_contain_text("小区路灯不亮")
    assert page.evaluate("window.__same_page") is True
    assert REPEAT_CALLER not in panel.inner_html()
    assert Case.objects.count() == 1

    tab_to(page, "#id_name")
    page.keyboard.type("刘洋")

    # Alt+K: the knowledge base search; typing filters the answers in place.
    page.keyboard.press("Alt+k")
    expect(page.locator("#id_q")).to_be_focused()
    with page.expect_response(lambda r: "/hotline/knowledge/?" in r.url and "q=" in r.url):
        page.keyboard.type("社保卡")
    results = page.locator("#kb-results")
    expect(results.locator("h3").first).to_have_text(entry.title)
    # Enter searches again (it does not submit the form). Wait for that answer: it replaces the results, and
    # a button focused before it arrives would be swapped away (a race CI lost on a loaded machine).
    with page.expect_response(lambda r: "/hotline/knowledge/?" in r.url and "q=" in r.url):
        page.keyboard.press("Enter")
    expect(results.locator("h3").first).to_have_text(entry.title)
    assert page.evaluate("window.__same_page") is True

    # Picking the entry fills the answer box (and the empty title), and puts the cursor in the answer.
    tab_to(page, f"#kb-results button[value='{entry.pk}']")
    with page.expect_response(f"**/hotline/knowledge/{entry.pk}/"):
        page.keyboard.press("Enter")
    answer = page.locator("#id_answer")
    expect(answer).to_be_focused()
    expect(answer).to_have_value(entry.answer)
    expect(page.locator("#id_title")).to_have_value(entry.title)
    page.locator("#id_description").fill("来电人社保卡丢失，咨询如何补办。")
    page.locator("#id_jurisdiction").select_option("430103002001")
    page.locator("#id_answer").focus()
    screenshot(page, "hotline-intake.png")
    check_accessibility(page)

    # Alt+D answers directly: the case is recorded and closed at intake.
    page.keyboard.press("Alt+d")
    page.wait_for_url(re.compile(r"/hotline/calls/[\d-]+/$"))
    expect(page.locator("h1")).to_have_count(1)
    status = page.locator("#case-status")
    expect(status).to_have_attribute("data-status", "direct_answered")
    number = page.locator("#case-number").inner_text()
    assert NUMBER.match(number), number
    expect(page.locator("#case-closed")).to_be_visible()
    expect(page.locator(".answer-text")).to_contain_text("挂失")
    answered = Case.objects.get(number=number)
    assert answered.status == Status.DIRECT_ANSWERED
    assert answered.channel == "hotline"
    assert AnswerUse.objects.get().case == answered
    screenshot(page, "hotline-answered.png")
    check_accessibility(page)

    # The entry used is linked; its page reads the whole answer.
    page.locator(f"a[href='/hotline/knowledge/{entry.pk}/']").click()
    expect(page.locator("h1")).to_have_text(entry.title)
    check_accessibility(page)
    page.go_back()

    # The next call: the "next call" link has the focus.
    expect(page.locator("#next-call")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/hotline/")
    expect(page.locator("#id_phone")).to_be_focused()
    page.keyboard.type("13900001234")
    with page.expect_response("**/hotline/caller/"):
        page.keyboard.press("Enter")
    expect(page.locator("#caller-panel .first-caller")).to_be_visible()
    tab_to(page, "#id_name")
    page.keyboard.type("周敏")
    page.locator("#id_nature").select_option("complaint")
    # The category filter keeps the matches and selects the first one.
    tab_to(page, "#category-filter")
    page.keyboard.type("道路")
    expect(page.locator("#id_category")).to_have_value("010101")
    page.locator("#id_title").fill("八角亭路路面塌陷")
    page.keyboard.press("Tab")
    page.keyboard.type("八角亭路与坡子街交叉口路面塌陷，有安全隐患。")
    page.locator("#id_jurisdiction").select_option("430103002001")
    page.locator("#id_address").fill("八角亭路与坡子街交叉口")
    page.keyboard.press("Alt+s")
    page.wait_for_url(re.compile(r"/hotline/calls/[\d-]+/$"))
    expect(page.locator("#case-status")).to_have_attribute("data-status", "received")
    second = page.locator("#case-number").inner_text()
    assert NUMBER.match(second)
    assert second != number
    expect(page.locator("#case-due")).to_be_visible()
    expect(page.locator(f"a[href='/cases/{second}/']")).to_be_visible()
    created = Case.objects.get(number=second)
    assert (created.status, created.nature, created.category_id) == (
        Status.RECEIVED,
        "complaint",
        created.category_id,
    )
    assert created.category is not None
    assert created.category.code == "010101"
    screenshot(page, "hotline-created.png")
    check_accessibility(page)


def test_a_call_without_title_and_description_is_answered_at_the_fields(page: Page, bworld: World) -> None:
    login(page, "tx_hotline")
    page.goto("/hotline/")
    page.keyboard.type("13800001111")
    page.locator("#id_address").fill("天剑社区5栋")
    page.locator("#id_jurisdiction").select_option("430103004001")
    page.keyboard.press("Alt+s")

    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#id_title_error")).to_be_visible()
    expect(page.locator("#id_description_error")).to_be_visible()
    expect(page.locator("#id_title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_phone")).to_have_value("13800001111")
    expect(page.locator("#id_address")).to_have_value("天剑社区5栋")
    expect(page.locator("#id_jurisdiction")).to_have_value("430103004001")
    check_accessibility(page)
    assert not Case.objects.exists()

    # The summary's link takes the keyboard to the field.
    page.locator("#error-summary a[href='#id_title']").press("Enter")
    expect(page.locator("#id_title")).to_be_focused()
