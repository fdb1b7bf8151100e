"""Every route of the window × every persona (and nobody logged in), GET and POST, against an oracle restated
here from the rules (not imported from civicgrid.services.queries); then tampering: another centre's visit
in the URL, another centre or another item's materials in the form's fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from civicgrid.services.models import VisitEvent, WindowVisit
from tests.services.helpers import PHONE, Window
from tests.services.routes import COVERED
from tests.world import PERSONAS, UNITS

Clients = Callable[[str], Client]

# The rules: the window opens for window clerks and superusers; a clerk with a unit grant sees and acts on
# the visits of that centre only (no persona holds a district-wide window grant); superusers see all.
CENTER_UNITS = {"pzj": "430103002-service_center", "yh": "430111001-service_center"}
ROLE = {p.username: (str(p.role) if p.role else None) for p in PERSONAS}
UNIT = {p.username: p.unit for p in PERSONAS}
SUPER = {p.username for p in PERSONAS if p.superuser}
assert "430103002-service_center" in {code for code, *_ in UNITS}


def opens(username: str | None) -> bool:
    return username is not None and (username in SUPER or ROLE[username] == "window_clerk")


def sees(username: str | None, center: str) -> bool:
    if username is None:
        return False
    return username in SUPER or (ROLE[username] == "window_clerk" and UNIT[username] == CENTER_UNITS[center])


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    pattern: str  # as in routes.py, without the "window/" prefix
    visit: str | None = None  # which fixture visit fills <number>
    query: str = ""
    post: str = ""  # which POST body: "desk" or a step prefix
    ok: int = 200

    def url(self, window: Window) -> str:
        path = self.pattern
        if self.visit:
            path = path.replace("<str:number>", window.visits[self.visit].number)
        return f"/window/{path}{self.query}"

    def center(self) -> str:
        return self.visit.split("_")[0] if self.visit else "pzj"

    def allowed(self, username: str | None) -> bool:
        if self.visit or self.post == "desk":
            return sees(username, self.center())
        return opens(username)

    def body(self, window: Window) -> dict[str, object]:
        if self.post == "desk":
            return {
                "item": "GA-001",
                "service_center": window.centers["pzj"].pk,
                "materials": window.required_ids("GA-001"),
                "applicant_name": "矩阵",
                "applicant_phone": PHONE,
                "outcome": "accepted",
            }
        return {f"{self.post}-note": "矩阵测试"}


ROUTES = [
    Route("desk", "GET", ""),
    Route("desk-item", "GET", "", query="?item=GA-001"),
    Route("desk-register", "POST", "", post="desk", ok=303),
    Route("visits", "GET", "visits/"),
    *(Route(f"visit[{v}]", "GET", "visits/<str:number>/", visit=v) for v in ("pzj_accepted", "yh_accepted")),
    Route("notice[pzj]", "GET", "visits/<str:number>/notice/", visit="pzj_notice"),
    *(
        Route(f"receipt[{v}]", "GET", "visits/<str:number>/receipt/", visit=v)
        for v in ("pzj_accepted", "yh_accepted")
    ),
    *(
        Route(f"{step}[{v}]", "POST", f"visits/<str:number>/{step}/", visit=v, post=step, ok=303)
        for step in ("start", "complete")
        for v in ("pzj_accepted", "yh_accepted")
    ),
    Route(
        "collect[pzj]", "POST", "visits/<str:number>/collect/", visit="pzj_instant", post="collect", ok=303
    ),
]
USERS = [None, *(p.username for p in PERSONAS)]


def test_the_matrix_covers_every_route() -> None:
    assert {f"window/{r.pattern}" for r in ROUTES} == COVERED


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("username", USERS, ids=lambda u: u or "anonymous")
def test_matrix(
    shared_window: Window, shared_client_for: Clients, username: str | None, route: Route
) -> None:
    client = shared_client_for(username) if username else Client()
    url = route.url(shared_window)
    if route.method == "GET":
        response = client.get(url)
    else:
        before = (WindowVisit.objects.count(), VisitEvent.objects.count())
        response = client.post(url, route.body(shared_window))
    if route.allowed(username):
        assert response.status_code == route.ok, (username, url, response.content[:400])
        return
    if username is None:
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif not opens(username):
        assert response.status_code == 403, (username, url)
    else:
        assert response.status_code in (404, 422), (username, url)
    if route.method == "POST":
        assert (WindowVisit.objects.count(), VisitEvent.objects.count()) == before  # nothing written


@pytest.mark.parametrize("route", [r for r in ROUTES if r.post and r.post != "desk"], ids=lambda r: r.name)
def test_steps_refuse_get(shared_window: Window, shared_client_for: Clients, route: Route) -> None:
    for username in ("pzj_window", "root", "tx_leader"):
        assert shared_client_for(username).get(route.url(shared_window)).status_code == 405
