"""The statistics pages on tests/overview/scenario.py's hand-built month: every figure's link opens exactly
the cases it counts (asked of the case API and of the staff list page), the figures are the ones worked out
by hand, the period form's errors, the printable report and the .xlsx export."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from openpyxl import load_workbook

from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib.clock import frozen
from civicgrid.stats.refresh import do_refresh
from tests.overview.scenario import NOW, TIANXIN, Scenario, build
from tests.overview.test_links import case_list_links
from tests.world import World

PERIOD = "2026-03"  # the scenario's month


@pytest.fixture
def scenario(world: World) -> Scenario:
    built = build(world)
    with frozen(NOW):
        while do_refresh(actor=None, limit=1000):
            pass
    return built


def _shown_by_the_list(client: Client, query: str) -> int:
    """The staff list page's count of all matching cases (the "all" queue's badge)."""
    html = client.get(f"/cases/?{query}").content.decode()
    found = re.search(r'data-queue="all">[^<]*<span class="badge[^"]*">(\d+)</span>', html)
    assert found, html[:500]
    return int(found.group(1))


@pytest.mark.parametrize(
    ("username", "code"), [("tx_leader", "430103"), ("tx_leader", "430103002"), ("cs_dispatcher", "430100")]
)
def test_each_linked_figure_counts_what_the_case_list_shows(
    scenario: Scenario, client_for: Callable[[str], Client], username: str, code: str
) -> None:
    client = client_for(username)
    node = Jurisdiction.objects.get(code=code)
    with frozen(NOW):
        page = client.get(f"/stats/?j={code}&p={PERIOD}")
    assert page.status_code == 200
    links = case_list_links(page.content.decode())
    assert len(links) >= 10, links
    counted = set()
    for href, text in links:
        shown = int(re.findall(r"\d+", text)[-1])
        query = urlsplit(href).query
        params = dict(parse_qsl(query))
        # Bounded by the page's area: the area itself, or one of the areas below it.
        assert Jurisdiction.objects.get(code=params["jurisdiction"]).path.startswith(node.path), href
        counted.add(params.get("counted", ""))
        with frozen(NOW):
            answer = client.get(f"/api/v1/cases?{query}&limit=1")
            assert answer.status_code == 200, (href, answer.content[:300])
            assert answer.json()["count"] == shown, (href, text)
            assert _shown_by_the_list(client, query) == shown, (href, text)
    assert {"", "closed", "closed_on_time", "revisited"} <= counted


def test_the_figures_say_the_scenario(scenario: Scenario, client_for: Callable[[str], Client]) -> None:
    with frozen(NOW):
        html = client_for("tx_leader").get(f"/stats/?j=430103&p={PERIOD}").content.decode()
    received = re.search(r'id="fig-received".*?<a href="[^"]+">(\d+)</a>', html, re.S)
    assert received
    # The whole of March: the scenario's month so far (B C D E F G K M), worked out in tests/overview/scenario.py.
    assert int(received.group(1)) == TIANXIN["received_month"]
    closed = re.search(r'id="fig-closed".*?<a href="[^"]+">(\d+)</a>', html, re.S)
    assert closed
    assert int(closed.group(1)) == TIANXIN["closed"]
    on_time = re.search(r'id="fig-closed_on_time".*?<a href="[^"]+">(\d+)</a>', html, re.S)
    assert on_time
    assert int(on_time.group(1)) == TIANXIN["on_time"]


def test_a_bad_period_is_explained(world: World, client_for: Callable[[str], Client]) -> None:
    client = client_for("tx_leader")
    en = {"accept-language": "en"}
    response = client.get("/stats/?p=2026-13", headers=en)
    assert response.status_code == 422
    assert "There is no month 13." in response.content.decode()
    response = client.get("/stats/?start=2026-03-10&end=2026-03-01", headers=en)
    assert response.status_code == 422
    assert "The last day comes before the first." in response.content.decode()
    response = client.get("/stats/?p=last week", headers=en)
    assert response.status_code == 422
    assert "Give a month (2026-10)" in response.content.decode()


def test_the_report_and_its_workbook(scenario: Scenario, client_for: Callable[[str], Client]) -> None:
    client = client_for("tx_leader")
    with frozen(NOW):
        html = client.get(
            f"/stats/report/?j=430103&p={PERIOD}", headers={"accept-language": "en"}
        ).content.decode()
        xlsx = client.get(f"/stats/report.xlsx?j=430103&p={PERIOD}", headers={"accept-language": "en"})
    assert "requests from the public, 2026-03-01 – 2026-03-31" in html
    n = TIANXIN["received_month"]
    assert f"received {n} requests from the public" in html
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"] == 'attachment; filename="report-430103-2026-03.xlsx"'
    book = load_workbook(io.BytesIO(xlsx.content))
    summary = book.worksheets[0]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and len(row) > 1}
    assert values["received"] == n
    assert [s.title for s in book.worksheets][:2] == ["Summary", "Rates"]
