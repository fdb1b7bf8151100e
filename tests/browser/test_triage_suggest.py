"""Category suggestion in the browser: the hotline operator types the request and picks the suggested
category with one click; the dispatcher sees the recorded suggestion on the case page, uses it to register,
and the panel then says it was accepted."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Status
from civicgrid.triage.actions import models as actions
from civicgrid.triage.models import CaseSuggestion, ModelSource
from tests.browser import check_accessibility, login, screenshot
from tests.cases.helpers import new_case
from tests.triage.helpers import build_classes, labelled  # noqa: F401 (the fixture, used by the mark below)
from tests.world import World

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("labelled")]

TITLE = "小区门口道路塌陷积水"
DESCRIPTION = "我们小区门口的市政道路塌陷，下雨积水很深，住建部门能否尽快修复路面和下水道。"


def _trained() -> dict[str, object]:
    classes = build_classes()
    run = actions.do_request_training(source=ModelSource.FILE, actor=None)
    actions.do_train(run, actor=None)
    return dict(classes)


def test_the_operator_picks_the_suggested_category(page: Page, bworld: World) -> None:
    classes = _trained()
    login(page, "tx_hotline")
    page.goto("/hotline/")
    panel = page.locator("#triage-suggest")
    expect(panel).to_contain_text("根据文字推荐分类")
    with page.expect_response("**/triage/suggest/"):
        page.locator("#id_title").fill(TITLE)
    page.locator("#id_description").fill(DESCRIPTION)
    picks = panel.locator(".suggest-pick")
    expect(picks).to_have_count(3)
    first = picks.first
    expect(first).to_contain_text("城乡建设")
    first.click()
    expect(page.locator("#id_category")).to_have_value(classes["城乡建设"].code)  # type: ignore[attr-defined]
    expect(page.locator("#id_category")).to_be_focused()
    expect(first).to_have_attribute("aria-pressed", "true")
    check_accessibility(page)
    screenshot(page, "hotline-suggestion.png")

    # bad text: the panel says why there is no suggestion, and nothing breaks
    page.locator("#id_title").fill("？？？")
    page.locator("#id_description").fill("")
    expect(panel).to_contain_text("没有可供判断的字词")
    expect(panel.locator(".suggest-pick")).to_have_count(0)


def test_the_dispatcher_registers_with_the_suggestion(page: Page, bworld: World) -> None:
    classes = _trained()
    case = new_case(bworld, actor=None, title=TITLE, description=DESCRIPTION, nature="complaint")
    actions.do_suggest_for_case(case, actor=None)
    login(page, "tx_dispatcher")
    page.goto(f"/cases/{case.number}/")
    panel = page.locator("#case-suggestion")
    expect(panel).to_contain_text("模型 v1")
    expect(panel).to_contain_text("天心区住房和城乡建设局")
    page.locator("#act-register summary").click()
    panel.locator(".suggest-pick").first.click()
    select = page.locator("#id_register-category")
    expect(select).to_have_value(classes["城乡建设"].code)  # type: ignore[attr-defined]
    check_accessibility(page)
    screenshot(page, "case-suggestion.png")
    page.locator("#act-register button[type=submit]").click()
    expect(page.locator("#suggest-outcome")).to_contain_text("已采纳")
    case.refresh_from_db()
    assert case.status == Status.REGISTERED
    assert Case.objects.get(pk=case.pk).category == classes["城乡建设"]
    assert CaseSuggestion.objects.get(case=case).category == classes["城乡建设"]
