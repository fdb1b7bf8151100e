"""Every URL of the field screens × every persona (GET and POST), against an oracle restated here from the
rules (docs/architecture.md, the brief of the field screens), not imported from the code:

- the field screens open for grid workers, grid leaders, building heads and superusers; anyone else logged
  in gets a 403, anonymous visitors the login page;
- a case, cell or visit outside the persona's own grid cells is a 404 (its existence is not leaked);
- inside them, the case action decides: grid workers and leaders verify on site, building heads only
  report, nobody of the grid revisits (only superusers here).

Plus the tampering tests: another district's case number in the URL, another district's cell in a form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import get_resolver

from civicgrid.cases import limits
from civicgrid.cases.workflow import Status
from tests.cases.helpers import build_catalog, reach
from tests.fieldwork.helpers import BJT_CELL, YH_CELL, yh_case
from tests.fieldwork.routes import COVERED
from tests.world import PERSONAS, World

FIELD_ROLES = {"grid_worker", "grid_leader", "building_head"}
VERIFIERS = {"grid_worker", "grid_leader"}  # 核查 on site, in the cells they work
# Who works which cell in the test world (tests/world.py): the cell's worker and leader, and the head of
# its building B01. Superusers work everywhere.
WORKS = {"bjt_grid": {BJT_CELL}, "bjt_leader": {BJT_CELL}, "bjt_building": {BJT_CELL}}
CELL_OF = {"bjt": BJT_CELL, "yh": YH_CELL}
USERNAMES = [p.username for p in PERSONAS]
ROLE = {p.username: (str(p.role) if p.role else None) for p in PERSONAS}
SUPER = {p.username for p in PERSONAS if p.superuser}


def opens_field(username: str) -> bool:
    return username in SUPER or ROLE[username] in FIELD_ROLES


def works(username: str, key: str) -> bool:
    return username in SUPER or CELL_OF[key] in WORKS.get(username, set())


@dataclass(frozen=True)
class Targets:
    replied: dict[str, str]  # "bjt" / "yh" → number of a replied case in that cell
    resolved: str  # a resolved case in BJT_CELL (waiting for its revisit)
    reported: str  # a case bjt_grid reported


@pytest.fixture(scope="module")
def targets(shared_world: World, django_db_blocker: Any) -> Iterator[Targets]:
    from civicgrid.fieldwork.actions import do_report_event

    with django_db_blocker.unblock():
        catalog = build_catalog()
        reported, _ = do_report_event(
            category=catalog.road,
            title="矩阵：井盖松动",
            description="人行道井盖松动",
            lon=112.91,
            lat=28.11,
            actor=shared_world.u("bjt_grid"),
        )
        yield Targets(
            replied={
                "bjt": reach(Status.REPLIED, shared_world, catalog).number,
                "yh": yh_case(shared_world, catalog).number,
            },
            resolved=reach(Status.RESOLVED, shared_world, catalog).number,
            reported=reported.number,
        )
    limits.invalidate()  # the catalogue's limits go with the module's rollback


def _send(client: Client, method: str, url: str, data: dict[str, Any] | None = None) -> int:
    """One request in a savepoint that is rolled back, so each request sees the fixture's state."""
    with transaction.atomic():
        response = client.get(url) if method == "GET" else client.post(url, data or {})
        transaction.set_rollback(True)
    return response.status_code


def _expect(username: str, allowed: int, *, in_cell: bool = True, may: bool = True) -> int:
    """The oracle: login first, then the workplace (403), then the cell (404), then the action (403)."""
    if not opens_field(username):
        return 403
    if not in_cell:
        return 404
    return allowed if may else 403


VISIT = {
    "grid_cell": BJT_CELL,
    "address": "八角亭1栋2单元301室",
    "visited_at": "2025-01-02T10:00",
    "purpose": "routine",
    "findings": "家庭情况无变化",
}


@pytest.mark.parametrize("username", USERNAMES)
def test_every_field_url_for_every_persona(
    targets: Targets, shared_client_for: Callable[[str], Client], username: str
) -> None:
    client = shared_client_for(username)
    role = ROLE[username]
    is_super = username in SUPER
    cases: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("GET", "/field/", None, _expect(username, 200)),
        ("GET", "/field/report/", None, _expect(username, 200)),
        ("POST", "/field/report/", {}, _expect(username, 422)),  # authorized, then the form refuses
        ("GET", "/field/tasks/", None, _expect(username, 200)),
        ("GET", "/field/visits/", None, _expect(username, 200)),
        ("GET", "/field/visits/new/", None, _expect(username, 200)),
        ("POST", "/field/visits/new/", VISIT, _expect(username, 303, in_cell=works(username, "bjt"))),
        # The confirmation of a report is for the person who sent it.
        (
            "GET",
            f"/field/report/{targets.reported}/",
            None,
            _expect(username, 200, in_cell=username == "bjt_grid"),
        ),
    ]
    if opens_field(username) and not works(username, "bjt"):
        # Logging a visit in a cell that is not theirs is a field error, never a write.
        cases[6] = ("POST", "/field/visits/new/", VISIT, 422)
    for key, number in targets.replied.items():
        in_cell = works(username, key)
        cases += [
            ("GET", f"/field/tasks/{number}/", None, _expect(username, 200, in_cell=in_cell)),
            (
                "POST",
                f"/field/tasks/{number}/verify/",
                {"passed": "true"},
                _expect(username, 303, in_cell=in_cell, may=is_super or role in VERIFIERS),
            ),
            ("GET", f"/field/tasks/{number}/verify/", None, _expect(username, 405, in_cell=True)),
        ]
    revisit = {"channel": "visit", "reached": "true", "resolution": "resolved", "satisfaction": "satisfied"}
    cases += [
        (
            "POST",
            f"/field/tasks/{targets.resolved}/revisit/",
            revisit,
            _expect(username, 303, in_cell=works(username, "bjt"), may=is_super),
        ),
        ("GET", f"/field/tasks/{targets.resolved}/revisit/", None, _expect(username, 405)),
    ]
    for method, url, data, expected in cases:
        assert _send(client, method, url, data) == expected, (username, method, url)


@pytest.mark.parametrize("path", sorted(COVERED))
def test_anonymous_visitors_are_sent_to_log_in(targets: Targets, db: None, path: str) -> None:
    url = "/" + path.replace("<str:number>", targets.replied["bjt"])
    for method in ("GET", "POST"):
        response = Client().get(url) if method == "GET" else Client().post(url, {})
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/accounts/login/"), (method, url)


def test_routes_match_the_app() -> None:
    resolver = get_resolver()
    found = {
        "field/" + str(leaf.pattern)
        for pattern in resolver.url_patterns
        if str(pattern.pattern) == "field/"
        for leaf in getattr(pattern, "url_patterns", [])
    }
    assert found == COVERED
