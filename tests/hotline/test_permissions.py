"""Every hotline URL × every persona, and tampering with what the form sends.

Who opens the hotline screen is restated here (intake operators and dispatchers, and superusers), not
imported; what a persona may see comes from tests/test_permission_matrix.py's independent oracle. A persona
without the screen gets a 403 whatever the object (existence is not leaked); one with the screen gets a
404 for an object outside their scope, and a field error for a value outside it — never a write.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tests.hotline.helpers import PHONE, call_data, knowledge_base
from tests.test_permission_matrix import WHO, Who, matrix_cases, path_of, sees_area, sees_case  # noqa: F401
from tests.world import PERSONAS, World

USERNAMES = [p.username for p in PERSONAS]
HOTLINE_ROLES = {"intake_operator", "dispatcher"}  # restated from docs: the roles whose screen this is
ENTRY_PLACES = {"everywhere": None, "city": "430100", "tx": "430103", "yh": "430111"}


def opens_hotline(who: Who) -> bool:
    return who.superuser or who.role in HOTLINE_ROLES


def sees_entry(who: Who, key: str) -> bool:
    """An entry applies to its area's subtree; an operator is offered those of areas above or below theirs."""
    code = ENTRY_PLACES[key]
    if code is None or who.superuser:
        return True
    if who.path is None:
        return False
    return path_of(code).startswith(who.path) or who.path.startswith(path_of(code))


@dataclass(frozen=True)
class Ctx:
    numbers: dict[str, str]
    entries: dict[str, int]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    url: Callable[[Ctx], str]
    expect: Callable[[Who], tuple[int, ...]]
    data: dict[str, str] | None = None
    htmx: bool = False


def screen(ok: tuple[int, ...], *, when: Callable[[Who], bool] = lambda who: True, else_: int = 404) -> Any:
    """Without the screen: 403. With it: ``ok`` when ``when`` holds, else ``else_``."""

    def expect(who: Who) -> tuple[int, ...]:
        if not opens_hotline(who):
            return (403,)
        return ok if when(who) else (else_,)

    return expect


ROUTES: list[Route] = [
    Route("desk", "GET", lambda c: "/hotline/", screen((200,))),
    Route(
        "desk-lookup", "POST", lambda c: "/hotline/", screen((200,)), data={"do": "lookup", "phone": PHONE}
    ),
    # Taking a call in for 八角亭: done (303) inside the persona's area, a field error (422) outside it.
    Route(
        "desk-create",
        "POST",
        lambda c: "/hotline/",
        screen((303,), when=lambda who: sees_area(who, "430103002001"), else_=422),
        data=call_data(),
    ),
    Route("caller", "POST", lambda c: "/hotline/caller/", screen((200,)), data={"phone": PHONE}, htmx=True),
    Route("caller-get", "GET", lambda c: "/hotline/caller/", screen((405,))),
    Route("knowledge", "GET", lambda c: "/hotline/knowledge/?q=社保", screen((200,)), htmx=True),
    Route("knowledge-post", "POST", lambda c: "/hotline/knowledge/", screen((405,))),
]
for _key in ENTRY_PLACES:
    ROUTES += [
        Route(
            f"entry[{_key}]",
            "GET",
            lambda c, k=_key: f"/hotline/knowledge/{c.entries[k]}/",  # type: ignore[misc]
            screen((200,), when=lambda who, k=_key: sees_entry(who, k)),  # type: ignore[misc]
            htmx=True,
        ),
        Route(
            f"entry-page[{_key}]",
            "GET",
            lambda c, k=_key: f"/hotline/knowledge/{c.entries[k]}/",  # type: ignore[misc]
            screen((200,), when=lambda who, k=_key: sees_entry(who, k)),  # type: ignore[misc]
        ),
    ]
for _key in ("bjt", "yh"):
    ROUTES += [
        Route(
            f"call[{_key}]",
            "GET",
            lambda c, k=_key: f"/hotline/calls/{c.numbers[k]}/",  # type: ignore[misc]
            screen((200,), when=lambda who, k=_key: sees_case(who, k)),  # type: ignore[misc]
        ),
        Route(
            f"call-post[{_key}]",
            "POST",
            lambda c, k=_key: f"/hotline/calls/{c.numbers[k]}/",  # type: ignore[misc]
            screen((405,)),
        ),
    ]


@pytest.fixture(scope="module")
def matrix_entries(shared_world: World, django_db_blocker: Any) -> dict[str, int]:
    """Knowledge base entries in the shared world (rolled back with it)."""
    with django_db_blocker.unblock():
        entries = knowledge_base(shared_world)
    return {key: entries[key].pk for key in ENTRY_PLACES}


def _request(client: Client, route: Route, ctx: Ctx) -> Any:
    headers = {"HX-Request": "true"} if route.htmx else {}
    url = route.url(ctx)
    if route.method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, route.data or {}, headers=headers)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("username", USERNAMES)
def test_access(
    matrix_cases: dict[str, str],  # noqa: F811
    matrix_entries: dict[str, int],
    shared_client_for: Callable[[str], Client],
    username: str,
    route: Route,
) -> None:
    response = _request(shared_client_for(username), route, Ctx(matrix_cases, matrix_entries))
    expected = route.expect(WHO[username])
    assert response.status_code in expected, (username, route.name, response.status_code, expected)
    if response.status_code == 422:
        assert 'id="id_jurisdiction_error"' in response.content.decode()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_anonymous_visitors_are_sent_to_log_in(
    matrix_cases: dict[str, str],  # noqa: F811
    matrix_entries: dict[str, int],
    db: None,
    route: Route,
) -> None:
    response = _request(Client(), route, Ctx(matrix_cases, matrix_entries))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("username", [p.username for p in PERSONAS if opens_hotline(WHO[p.username])])
def test_the_caller_lookup_lists_only_the_cases_the_persona_sees(
    matrix_cases: dict[str, str],  # noqa: F811
    shared_client_for: Callable[[str], Client],
    username: str,
) -> None:
    # Both matrix cases were taken in with the same phone: 八角亭 (天心区) and 梓园 (雨花区).
    html = shared_client_for(username).post(
        "/hotline/caller/", {"phone": PHONE}, headers={"HX-Request": "true"}
    )
    listed = set(re.findall(r'href="/cases/([\d-]+)/"', html.content.decode()))
    assert listed == {number for key, number in matrix_cases.items() if sees_case(WHO[username], key)}
