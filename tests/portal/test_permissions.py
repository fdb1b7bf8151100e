"""The portal is public: every persona (and nobody) gets the same answers, decided by the data and the
secret link alone — never by a staff login. A staff login adds no power here (writes carry no actor), and
no page shows the resident's name or phone, whoever looks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.urls import URLResolver

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Case, Revisit
from civicgrid.portal.actions import do_submit_request
from civicgrid.portal.models import ReopenRequest, Support
from tests.cases.helpers import BJT_POINT, build_catalog
from tests.portal.helpers import REPORTER_NAME, REPORTER_PHONE, advance_to_resolved
from tests.portal.routes import COVERED
from tests.world import PERSONAS, World

ANONYMOUS = "(anonymous)"
USERNAMES = [ANONYMOUS, *(p.username for p in PERSONAS)]


@dataclass(frozen=True)
class Cases:
    open_number: str
    closed_number: str
    secret: str  # of the open case
    resolved_secret: str


def _submit(key: str, title: str) -> Any:
    return do_submit_request(
        form_key=key,
        ip_address="203.0.113.1",
        nature="help",
        title=title,
        description="矩阵测试",
        category=None,
        address="",
        lon=BJT_POINT[0],
        lat=BJT_POINT[1],
        jurisdiction=None,
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
        is_anonymous=False,
        actor=None,
    )


@pytest.fixture(scope="module")
def portal_cases(shared_world: World, django_db_blocker: Any) -> Iterator[Cases]:
    """An open web case, a withdrawn one and a resolved one, in the shared world's module transaction."""
    from civicgrid.cases import limits

    with django_db_blocker.unblock():
        catalog = build_catalog()
        first = _submit("11111111-1111-4111-8111-111111111111", "矩阵：路灯")
        closed = _submit("22222222-2222-4222-8222-222222222222", "矩阵：已撤回")
        case_actions.do_withdraw(closed.case, reason="群众撤回", actor=None)
        resolved = _submit("33333333-3333-4333-8333-333333333333", "矩阵：已办结")
        advance_to_resolved(resolved.case, shared_world, catalog)
    yield Cases(first.case.number, closed.case.number, first.secret, resolved.secret)
    limits.invalidate()


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    url: Callable[[Cases], str]
    expected: int
    data: dict[str, str] | None = None


ROUTES = [
    Route("report", "GET", lambda c: "/report/", 200),
    Route("report-invalid", "POST", lambda c: "/report/", 422, {"title": ""}),
    Route("similar", "GET", lambda c: f"/report/similar/?lon={BJT_POINT[0]}&lat={BJT_POINT[1]}", 200),
    Route("thanks", "GET", lambda c: "/report/thanks/", 200),
    Route("support-get", "GET", lambda c: f"/report/support/{c.open_number}/", 405),
    Route("support-closed", "POST", lambda c: f"/report/support/{c.closed_number}/", 404, {}),
    Route("support-unknown", "POST", lambda c: "/report/support/430100-1999-000001/", 404, {}),
    Route("support", "POST", lambda c: f"/report/support/{c.open_number}/", 303, {}),
    Route("track-lookup", "GET", lambda c: "/track/", 200),
    Route("track", "GET", lambda c: f"/track/{c.secret}/", 200),
    Route("track-bad", "GET", lambda c: f"/track/{'A' * 32}/", 404),
    Route("receipt", "GET", lambda c: f"/track/{c.secret}/receipt/", 200),
    Route("receipt-bad", "GET", lambda c: f"/track/{'A' * 32}/receipt/", 404),
    Route("rate-get", "GET", lambda c: f"/track/{c.secret}/rate/", 405),
    Route("rate-bad", "POST", lambda c: f"/track/{'A' * 32}/rate/", 404, {}),
    Route(
        "rate-open",
        "POST",
        lambda c: f"/track/{c.secret}/rate/",
        422,
        {"resolution": "resolved", "satisfaction": "satisfied"},
    ),
    Route(
        "rate",
        "POST",
        lambda c: f"/track/{c.resolved_secret}/rate/",
        303,
        {"resolution": "resolved", "satisfaction": "satisfied"},
    ),
    Route("reopen-get", "GET", lambda c: f"/track/{c.secret}/reopen/", 405),
    Route("reopen-bad", "POST", lambda c: f"/track/{'A' * 32}/reopen/", 404, {"reason": "x"}),
    Route("reopen-open", "POST", lambda c: f"/track/{c.secret}/reopen/", 422, {"reason": "还没修"}),
]


def test_the_matrix_names_every_route() -> None:
    from django.urls import get_resolver

    portal = [
        p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "portal"
    ]
    assert len(portal) == 1
    assert {str(p.pattern) for p in portal[0].url_patterns} == COVERED
    templates = {
        "report/": "report",
        "report/similar/": "similar",
        "report/thanks/": "thanks",
        "report/support/<str:number>/": "support",
        "track/": "track-lookup",
        "track/<str:secret>/": "track",
        "track/<str:secret>/receipt/": "receipt",
        "track/<str:secret>/rate/": "rate",
        "track/<str:secret>/reopen/": "reopen-get",
    }
    assert set(templates) == COVERED
    assert set(templates.values()) <= {r.name for r in ROUTES}


@pytest.mark.parametrize("username", USERNAMES)
def test_every_persona_gets_the_public_answers(
    shared_world: World,
    portal_cases: Cases,
    shared_client_for: Callable[[str], Client],
    username: str,
) -> None:
    client = Client() if username == ANONYMOUS else shared_client_for(username)
    for route in ROUTES:
        # Each write is rolled back, so every persona sees the cases as the fixture left them.
        with transaction.atomic():
            url = route.url(portal_cases)
            if route.method == "GET":
                response = client.get(url)
            else:
                response = client.post(
                    url, route.data or {}, REMOTE_ADDR=f"198.51.100.{USERNAMES.index(username) + 1}"
                )
            assert response.status_code == route.expected, (username, route.name, response.status_code)
            body = response.content.decode()
            assert REPORTER_NAME not in body, (username, route.name)
            assert REPORTER_PHONE not in body, (username, route.name)
            if route.name == "rate":
                # A supervisor's login does not make the rating theirs: it is the resident's, on the web.
                revisit = Revisit.objects.get(case__number__isnull=False, channel="web")
                assert revisit.by is None
            if route.name == "support":
                assert Support.objects.count() == 1
            transaction.set_rollback(True)
    assert not Support.objects.exists()
    assert not ReopenRequest.objects.exists()
    assert Case.objects.filter(title__startswith="矩阵").count() == 3


def test_a_staff_login_is_ignored_when_reporting(
    shared_world: World, portal_cases: Cases, shared_client_for: Callable[[str], Client]
) -> None:
    from tests.portal.helpers import case_of, report_data, secret_from

    with transaction.atomic():
        response = shared_client_for("root").post("/report/", report_data(), REMOTE_ADDR="198.51.100.200")
        case = case_of(secret_from(response))
        assert case.created_by is None
        assert case.channel == "web"
        assert case.level == "county"  # a public intake starts at the county's desk, not root's
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("username", "allowed"), [("root", True), ("tx_admin", False), ("tx_supervisor", False)]
)
def test_only_platform_operators_edit_the_policy(
    shared_world: World, shared_client_for: Callable[[str], Client], username: str, allowed: bool
) -> None:
    from civicgrid.portal.actions import do_save_portal_policy
    from civicgrid.portal.queries import current_policy

    policy = current_policy()
    response = shared_client_for(username).get(f"/admin/portal/portalpolicy/{policy.pk}/change/")
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)
        with pytest.raises(PermissionDenied):
            do_save_portal_policy(policy, actor=shared_world.u(username))
