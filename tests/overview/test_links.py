"""Every figure on the overview that links to the case list opens exactly the cases it counts: each link's
query string, asked of the case API (the same CaseFilters the staff list takes), returns as many cases as
the link's text says."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

from civicgrid.lib.clock import frozen
from tests.overview.scenario import NOW, Scenario, build
from tests.world import World


class Anchors(HTMLParser):
    """(href, text) of every <a> in the page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._stack: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._stack.append((dict(attrs).get("href") or "", []))

    def handle_data(self, data: str) -> None:
        for _, texts in self._stack:
            texts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._stack:
            href, texts = self._stack.pop()
            self.found.append((href, " ".join("".join(texts).split())))


def case_list_links(html: str) -> list[tuple[str, str]]:
    parser = Anchors()
    parser.feed(html)
    return [(href, text) for href, text in parser.found if href.startswith("/cases/?")]


@pytest.fixture
def scenario(world: World) -> Scenario:
    return build(world)


@pytest.mark.parametrize(
    ("username", "code"), [("tx_leader", "430103"), ("tx_leader", "430103002"), ("cs_dispatcher", "430100")]
)
def test_each_linked_figure_counts_what_the_case_list_shows(
    scenario: Scenario, client_for: Callable[[str], Client], username: str, code: str
) -> None:
    client = client_for(username)
    with frozen(NOW):
        page = client.get(f"/overview/?j={code}")
    assert page.status_code == 200
    links = case_list_links(page.content.decode())
    assert len(links) >= 10, links  # the stats, the rates, the league tables, "all overdue"
    for href, text in links:
        numbers = re.findall(r"\d+", text)
        assert numbers, (href, text)
        shown = int(numbers[-1])
        query = urlsplit(href).query
        params = dict(parse_qsl(query))
        assert params["jurisdiction"] == code, href  # every figure is bounded by the page's area
        with frozen(NOW):
            answer = client.get(f"/api/v1/cases?{query}&limit=1")
        assert answer.status_code == 200, (href, answer.content[:300])
        assert answer.json()["count"] == shown, (href, text)


def test_the_links_name_the_unit_and_the_grid(
    scenario: Scenario, client_for: Callable[[str], Client]
) -> None:
    with frozen(NOW):
        html = client_for("tx_leader").get("/overview/").content.decode()
    hrefs = [href for href, _ in case_list_links(html)]
    assert any("unit=430103-cg" in h and "overdue=true" in h for h in hrefs)
    assert any("grid=430103002001001" in h and "overdue=true" in h for h in hrefs)
    assert not any("unit=430100-cg" in h for h in hrefs), "天心区's list cannot filter on a city unit"
    # The overdue list links each case to its page.
    assert f'href="/cases/{scenario.number("D")}/"' in html
