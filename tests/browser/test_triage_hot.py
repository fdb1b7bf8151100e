"""The hot topics in Chromium: 天心区's leader finds the 热点问题 section on the overview, opens the topic of
the lamp reports at 八角亭 and follows one of its cases; both pages pass axe and fit a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from civicgrid.lib.clock import frozen
from civicgrid.triage.actions.hot import do_compute_hot_topics
from civicgrid.triage.models import HotTopic
from tests.browser import check_accessibility, login, screenshot
from tests.browser.test_overview import MAP_PARTS
from tests.cases.helpers import BJT_POINT, new_case
from tests.triage.test_hot import LAMPS, NOW, OTHERS
from tests.world import World

pytestmark = pytest.mark.browser


@pytest.fixture
def topic(bworld: World) -> HotTopic:
    with frozen(NOW - timedelta(days=2)):
        for title, body in LAMPS + OTHERS:
            new_case(bworld, actor=None, title=title, description=body, point=BJT_POINT)
    run = do_compute_hot_topics(now=NOW, actor=None)
    return run.topics.get()


def test_a_leader_opens_a_hot_topic(page: Page, topic: HotTopic) -> None:
    login(page, "tx_leader")
    page.goto("/overview/")
    section = page.locator("#hot-topics")
    expect(section.locator(f"#hot-topic-{topic.pk}")).to_contain_text(topic.title)
    expect(section.locator(f"#hot-topic-{topic.pk} .tag").first).to_be_visible()
    check_accessibility(page, exclude=MAP_PARTS)
    section.get_by_role("link", name=topic.title).click()
    page.wait_for_url(f"**/triage/hot/{topic.pk}/")
    expect(page.locator("h1")).to_have_text(topic.title)
    expect(page.locator("#hot-size")).to_have_text("3")
    expect(page.locator("#hot-members tbody tr")).to_have_count(3)
    check_accessibility(page)
    screenshot(page, "triage-hot-topic.png")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("#hot-members tbody a").first.click()
    page.wait_for_url("**/cases/**")
