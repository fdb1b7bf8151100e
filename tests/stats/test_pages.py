"""Who may open the statistics pages: every persona × area, the overview's rule (leaders, supervisors,
dispatchers and superusers; a jurisdiction outside the grant is a 404); nothing accepts a POST."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.overview.test_permissions import CODES, USERNAMES, opens_overview, sees
from tests.stats.routes import COVERED

PAGES = ["/stats/", "/stats/report/", "/stats/report.xlsx", "/stats/map.json"]
PERIOD = "2026-03"  # the scenario's month


def test_the_routes_are_declared() -> None:
    from django.urls import get_resolver

    found = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "stats/":
            found = {"stats/" + str(p.pattern) for p in getattr(pattern, "url_patterns", [])}
    assert found == COVERED


@pytest.mark.parametrize("username", USERNAMES)
def test_the_matrix(shared_client_for: Callable[[str], Client], username: str) -> None:
    client = shared_client_for(username)
    allowed = opens_overview(username)
    for page in PAGES:
        assert client.get(page).status_code == (200 if allowed else 403), page
        assert client.post(page).status_code in (403, 405), page  # read-only
        for code in CODES:
            response = client.get(f"{page}?j={code}")
            expected = (200 if sees(username, code) else 404) if allowed else 403
            assert response.status_code == expected, (page, code, response.status_code)


def test_the_anonymous_are_sent_to_log_in(client: Client) -> None:
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302
        assert "/login/" in response["Location"]
