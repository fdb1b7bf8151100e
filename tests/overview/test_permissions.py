"""Every overview URL × every persona of tests/world.py, GET and POST, against an oracle restated here from
the rules (not imported from civicgrid.accounts.permissions): leaders, supervisors, dispatchers and
superusers open the overview; everyone else gets a 403, the anonymous a redirect to the login page; a
jurisdiction outside the persona's grant is a 404 (editing ?j= does not help); nothing here accepts a POST.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.overview.routes import COVERED
from tests.world import PERSONAS, TREE, UNITS

OVERVIEW_ROLES = {"leader", "supervisor", "dispatcher"}
PARENT = {code: parent for code, _, _, parent, _ in TREE}
NAME = {code: name for code, name, _, _, _ in TREE}
UNIT_PLACE = {code: where for code, _, _, where in UNITS}
USERNAMES = [p.username for p in PERSONAS]


def chain(code: str) -> list[str]:
    codes = [code]
    while PARENT[codes[-1]]:
        codes.append(PARENT[codes[-1]])  # type: ignore[arg-type]
    return codes


def home_of(username: str) -> str | None:
    """The jurisdiction of the persona's grant (a unit grant: the unit's jurisdiction)."""
    spec = next(p for p in PERSONAS if p.username == username)
    return spec.jurisdiction or (UNIT_PLACE[spec.unit] if spec.unit else None)


def opens_overview(username: str) -> bool:
    spec = next(p for p in PERSONAS if p.username == username)
    return spec.superuser or str(spec.role) in OVERVIEW_ROLES


def sees(username: str, code: str) -> bool:
    spec = next(p for p in PERSONAS if p.username == username)
    home = home_of(username)
    return spec.superuser or (home is not None and home in chain(code))


def entry_point(username: str) -> str:
    """Where the overview opens without ?j=: the persona's own jurisdiction (the city for superusers)."""
    return home_of(username) or "430100"


CODES = ["430100", "430103", "430103002001", "430111"]
PAGES = ["/overview/", "/overview/map.geojson"]


def test_the_routes_are_declared() -> None:
    from django.urls import get_resolver

    found = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "overview/":
            found = {"overview/" + str(p.pattern) for p in getattr(pattern, "url_patterns", [])}
    assert found == COVERED


@pytest.mark.parametrize("username", USERNAMES)
def test_the_matrix(shared_client_for: Callable[[str], Client], username: str) -> None:
    client = shared_client_for(username)
    allowed = opens_overview(username)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == (200 if allowed else 403), (page, response.status_code)
        if allowed and page == "/overview/":
            name = NAME[entry_point(username)]
            assert f"{name}" in response.content.decode().split("<h1>", 1)[1].split("</h1>", 1)[0]
        for code in CODES:
            response = client.get(f"{page}?j={code}")
            expected = (200 if sees(username, code) else 404) if allowed else 403
            assert response.status_code == expected, (page, code, response.status_code)
        response = client.get(f"{page}?j=no-such-place")
        assert response.status_code == (404 if allowed else 403), page
        # Read-only: a POST is refused, and refused before anything else for those without the screen.
        response = client.post(page, {"j": "430103"})
        assert response.status_code == (405 if allowed else 403), (page, response.status_code)


@pytest.mark.parametrize("page", PAGES)
def test_the_anonymous_are_sent_to_log_in(db: None, page: str) -> None:
    for response in (Client().get(f"{page}?j=430103"), Client().post(page)):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_a_tianxin_leader_cannot_open_yuhua(shared_client_for: Callable[[str], Client]) -> None:
    client = shared_client_for("tx_leader")
    assert client.get("/overview/?j=430111").status_code == 404
    assert client.get("/overview/map.geojson?j=430111").status_code == 404


@pytest.mark.parametrize("username", ["bjt_grid", "tx_cg_handler", "pzj_window", "tx_hotline", "tx_admin"])
def test_grid_workers_handlers_and_desks_get_403(
    shared_client_for: Callable[[str], Client], username: str
) -> None:
    client = shared_client_for(username)
    assert client.get("/overview/").status_code == 403
    assert client.get("/overview/map.geojson?j=430103").status_code == 403
