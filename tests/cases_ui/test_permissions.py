"""The case pages enforce exactly the API's permissions: for every persona, on a case of their district and
one of the other district, each page and each action answers as the API does for the same request.

A persona whose roles do not open the case screens (Workplace.CASES) gets a 403 for every page, whatever
the case (so the answer does not tell whether a case exists); anonymous visitors are sent to log in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from civicgrid.accounts.models import Role
from civicgrid.accounts.permissions import WORKPLACES, Workplace
from tests.test_permission_matrix import WHO, matrix_cases  # noqa: F401 — the module fixture
from tests.world import PERSONAS, World

USERNAMES = [p.username for p in PERSONAS]


def opens_cases(username: str) -> bool:
    who = WHO[username]
    return who.superuser or (who.role is not None and Workplace.CASES in WORKPLACES[Role(who.role)])


# (action, API body, form data). Enough to cover each permission scope: the lead unit (accept, reply,
# request_extension), the desk (urge), supervision (supervise), intake (withdraw).
ACTIONS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("accept", {}, {}),
    ("request_extension", {"amount": "1", "reason": "需协调"}, {"amount": "1", "reason": "需协调"}),
    ("reply", {"reply": "已办结"}, {"reply": "已办结"}),
    ("urge", {"note": "请加快"}, {"note": "请加快"}),
    ("supervise", {"opinion": "限期办理"}, {"opinion": "限期办理"}),
    ("withdraw", {"reason": "群众撤回"}, {"reason": "群众撤回"}),
    ("dispatch", {"lead_unit": "430103-cg"}, {"lead_unit": "430103-cg"}),
]


def _outcome(status: int) -> str:
    return {200: "ok", 303: "ok", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid"}.get(
        status, str(status)
    )


@pytest.mark.parametrize("key", ["bjt", "yh"])
@pytest.mark.parametrize("username", USERNAMES)
def test_the_case_page_answers_like_the_api(
    shared_world: World,
    matrix_cases: dict[str, str],  # noqa: F811
    shared_client_for: Callable[[str], Client],
    username: str,
    key: str,
) -> None:
    number = matrix_cases[key]
    client = shared_client_for(username)
    api = client.get(f"/api/v1/cases/{number}").status_code
    page = client.get(f"/cases/{number}/").status_code
    if not opens_cases(username):
        assert page == 403
    else:
        assert page == api, (username, number, page, api)


@pytest.mark.parametrize(("action", "api_body", "form"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize("key", ["bjt", "yh"])
@pytest.mark.parametrize("username", USERNAMES)
def test_each_action_answers_like_the_api(
    shared_world: World,
    matrix_cases: dict[str, str],  # noqa: F811
    shared_client_for: Callable[[str], Client],
    username: str,
    key: str,
    action: str,
    api_body: dict[str, Any],
    form: dict[str, str],
) -> None:
    number = matrix_cases[key]
    client = shared_client_for(username)
    # The API first, rolled back, so both doors see the same case.
    with transaction.atomic():
        api = client.post(
            f"/api/v1/cases/{number}/actions/{action}", json.dumps(api_body), content_type="application/json"
        ).status_code
        transaction.set_rollback(True)
    page = client.post(
        f"/cases/{number}/act/{action}/", {f"{action}-{k}": v for k, v in form.items()}
    ).status_code
    if not opens_cases(username):
        assert page == 403
    else:
        assert _outcome(page) == _outcome(api), (username, number, action, page, api)


@pytest.mark.parametrize("username", USERNAMES)
def test_the_lists_and_forms_open_to_the_case_roles_only(
    shared_world: World,
    shared_client_for: Callable[[str], Client],
    username: str,
) -> None:
    client = shared_client_for(username)
    expected = 200 if opens_cases(username) else 403
    assert client.get("/cases/").status_code == expected
    assert client.get("/cases/?queue=overdue&q=x").status_code == expected
    posted = 303 if opens_cases(username) else 403
    assert client.post("/cases/filters/", {"name": "x", "query": "q=x"}).status_code == posted
    assert client.post("/cases/bulk-dispatch/", {"cases": ["NONE"], "lead_unit": "x"}).status_code == posted
    assert client.post("/cases/filters/999999/delete/").status_code == (404 if opens_cases(username) else 403)


@pytest.mark.parametrize("key", ["bjt", "yh"])
@pytest.mark.parametrize("username", USERNAMES)
def test_photos_and_phones_answer_like_the_api(
    shared_world: World,
    matrix_cases: dict[str, str],  # noqa: F811
    shared_client_for: Callable[[str], Client],
    username: str,
    key: str,
) -> None:
    number = matrix_cases[key]
    client = shared_client_for(username)
    with transaction.atomic():
        api = client.post(
            f"/api/v1/cases/{number}/reveal-phone",
            json.dumps({"purpose": "t"}),
            content_type="application/json",
        ).status_code
        transaction.set_rollback(True)
    page = client.post(f"/cases/{number}/phone/", {"purpose": "t"}).status_code
    photo = client.get(f"/cases/{number}/photos/999999/").status_code
    reopen = client.post(f"/cases/{number}/reopen-requests/999999/", {"decision": "accept"}).status_code
    if not opens_cases(username):
        assert (page, photo, reopen) == (403, 403, 403)
    else:
        assert page == api
        # No such photo or request, or no such case for this user: the same answer.
        assert (photo, reopen) == (404, 404)


def test_anonymous_visitors_are_sent_to_log_in(matrix_cases: dict[str, str]) -> None:  # noqa: F811
    number = matrix_cases["bjt"]
    for url in ("/cases/", f"/cases/{number}/", f"/cases/{number}/photos/1/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
    for url in (
        f"/cases/{number}/act/accept/",
        f"/cases/{number}/phone/",
        "/cases/bulk-dispatch/",
        "/cases/filters/",
    ):
        response = Client().post(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
