"""/triage/duplicates/ (the hotline desk's "possible duplicates" panel) × every persona × a place inside and
outside their jurisdiction.

Restated here, not imported: the panel opens for whoever works at the hotline or the case screens (intake
operators, dispatchers, window clerks, grid leaders, handlers, mediators, supervisors, leaders and
superusers; everyone else 403, the anonymous are sent to log in); a place the persona does not see is a
404; the cases listed are those the persona sees (tests/test_permission_matrix.py's oracle, on its
MATRIX_CASES: 八角亭's case in handling, 梓园's dispatched).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.test_permission_matrix import (  # noqa: F401 (matrix_cases is a fixture)
    OPENS_CASES,
    WHO,
    Who,
    matrix_cases,
    sees_area,
    sees_case,
)
from tests.world import PERSONAS

USERNAMES = [p.username for p in PERSONAS]


@pytest.fixture
def numbers(matrix_cases: dict[str, str]) -> dict[str, str]:  # noqa: F811 (the imported fixture)
    """The matrix cases' numbers by key."""
    return matrix_cases


OPENS_HOTLINE = {"intake_operator", "dispatcher"}
# The matrix cases' place and text (new_case's default description), said again the way a caller would.
PLACES = {"bjt": ("430103002001", (112.91, 28.11)), "yh": ("430111001001", (113.11, 28.11))}
TITLES = {"bjt": "八角亭路面塌陷", "yh": "梓园占道经营"}
DESCRIPTION = "你好，八角亭路口路面塌陷了，请尽快处理"


def opens_panel(who: Who) -> bool:
    return who.superuser or who.role in OPENS_CASES | OPENS_HOTLINE


URL = "/triage/duplicates/"


def data(key: str, *, point: bool = False) -> dict[str, str]:
    code, (lon, lat) = PLACES[key]
    query = {"title": TITLES[key], "description": DESCRIPTION}
    query.update({"lon": str(lon), "lat": str(lat)} if point else {"jurisdiction": code})
    return query


def test_the_route_is_declared() -> None:
    from django.urls import get_resolver

    from tests.triage.routes import COVERED

    found = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "triage/":
            for sub in getattr(pattern, "url_patterns", []):
                for leaf in getattr(sub, "url_patterns", [sub]):
                    found.add("triage/" + str(sub.pattern) + str(leaf.pattern if leaf is not sub else ""))
    assert "triage/duplicates/" in found
    assert "triage/duplicates/" in COVERED


@pytest.mark.parametrize("username", USERNAMES)
def test_the_matrix(
    shared_client_for: Callable[[str], Client], numbers: dict[str, str], username: str
) -> None:
    who = WHO[username]
    client = shared_client_for(username)
    for key, (code, _point) in PLACES.items():
        for by_point in (False, True):
            response = client.post(URL, data(key, point=by_point), headers={"HX-Request": "true"})
            if not opens_panel(who):
                expected = 403
            elif by_point or sees_area(who, code):
                expected = 200  # a point is not an object: the cases found are scoped, the point is not
            else:
                expected = 404
            assert response.status_code == expected, (username, key, by_point, response.status_code)
            if expected == 200:
                html = response.content.decode()
                assert (numbers[key] in html) == sees_case(who, key), (username, key, by_point)
        assert client.get(URL + "?" + urlencode(data(key))).status_code == 405


def test_the_anonymous_are_sent_to_log_in(client: Client) -> None:
    response = client.post(URL, data("bjt"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_without_htmx_it_is_a_page(
    shared_client_for: Callable[[str], Client], numbers: dict[str, str]
) -> None:
    html = shared_client_for("tx_hotline").post(URL, data("bjt")).content.decode()
    assert "<html" in html
    assert numbers["bjt"] in html
    fragment = shared_client_for("tx_hotline").post(URL, data("bjt"), headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    assert f'href="/cases/{numbers["bjt"]}/" target="_blank"' in fragment.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {},  # nothing typed
        {"title": "路面塌陷"},  # no place
        {"title": "路面塌陷", "lon": "abc", "lat": "28.11"},  # a bad point is no point
        {"title": "路面塌陷", "lon": "112.91"},  # half a point
        {"title": "路面塌陷", "lon": "1e999", "lat": "nan"},
        {"jurisdiction": "430103002001"},  # a place but no text
    ],
)
def test_bad_or_missing_input_lists_nothing(
    shared_client_for: Callable[[str], Client], numbers: dict[str, str], query: dict[str, str]
) -> None:
    response = shared_client_for("tx_hotline").post(URL, query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert numbers["bjt"] not in response.content.decode()


def test_an_unknown_place_is_a_404(
    shared_client_for: Callable[[str], Client], numbers: dict[str, str]
) -> None:
    response = shared_client_for("root").post(URL, {"title": "x", "jurisdiction": "999"})
    assert response.status_code == 404


def test_long_input_is_cut_not_refused(
    shared_client_for: Callable[[str], Client], numbers: dict[str, str]
) -> None:
    query = {"title": TITLES["bjt"] * 50, "description": DESCRIPTION * 2000, "jurisdiction": "430103002001"}
    response = shared_client_for("tx_hotline").post(URL, query)
    assert response.status_code == 200
