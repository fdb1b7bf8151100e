"""The assessment pages in Chromium: 天心区's leader opens 考核 from the navigation, finds the departments'
scheme, reads March's red and black lists and the ranking (the month of tests/assessment/scenario.py),
follows a unit's count to its cases, publishes the ranking with a note, and downloads it; the pages pass axe
and fit a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from civicgrid.assessment.models import AssessmentResult
from tests.assessment.scenario import build_month, unit_scheme
from tests.browser import check_accessibility, login, screenshot
from tests.stats.scenarios import CG, ZJ
from tests.world import World

pytestmark = pytest.mark.browser


@pytest.fixture
def scheme(bworld: World) -> None:
    build_month(bworld)
    unit_scheme(bworld)


def test_a_leader_reads_and_publishes_the_ranking(page: Page, scheme: None) -> None:
    login(page, "tx_leader")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="考核").click()
    page.wait_for_url("**/assessment/")
    expect(page.locator("h1")).to_have_text("考核")
    check_accessibility(page)
    page.get_by_role("link", name="天心区职能部门月度考核").click()
    page.wait_for_url("**/assessment/tx-units/")

    page.get_by_label("期间").fill("2026-03")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url("**/assessment/tx-units/?p=2026-03")
    expect(page.locator("#ranking-status")).to_contain_text("实时数据")
    expect(page.locator("#red-list li")).to_have_count(1)
    expect(page.locator("#red-list li")).to_contain_text("天心区城市管理和综合执法局")
    expect(page.locator("#black-list li")).to_contain_text("天心区住房和城乡建设局")
    expect(page.locator(f"#row-{CG} .score")).to_have_text("83.33")
    expect(page.locator(f"#row-{ZJ} .score")).to_have_text("75.00")
    expect(page.locator(f"#row-{ZJ} .standing")).to_have_text("黑榜")
    check_accessibility(page)
    screenshot(page, "assessment.png")

    # 住建's two cases due, opened from the ranking.
    page.locator(f"#row-{ZJ} td a").first.click()
    page.wait_for_url("**/cases/?**unit=430103-zj**")
    expect(page.locator('[data-queue="all"] .badge')).to_have_text("2")
    page.go_back()

    page.get_by_label("备注（可选）").fill("三月考核结果")
    page.get_by_role("button", name="发布 2026-03").click()
    page.wait_for_url("**/assessment/tx-units/?p=2026-03&v=1")
    expect(page.locator("#ranking-status")).to_contain_text("已发布（第 1 版）")
    expect(page.locator("#ranking-status")).to_contain_text("三月考核结果")
    assert AssessmentResult.objects.get().published_by.username == "tx_leader"  # type: ignore[union-attr]
    with page.expect_download() as download:
        page.locator("#xlsx-link").click()
    assert download.value.suggested_filename == "assessment-tx-units-2026-03-v1.xlsx"
    check_accessibility(page)


def test_the_ranking_fits_a_phone(phone_page: Page, scheme: None) -> None:
    login(phone_page, "tx_leader")
    phone_page.goto("/assessment/tx-units/?p=2026-03")
    expect(phone_page.locator("#red-list")).to_be_visible()
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"
