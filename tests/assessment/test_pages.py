"""Who may open the assessment pages and publish: every persona × a scheme of 天心区, of 八角亭 and of 雨花区,
against an oracle restated here (not imported): the leaders' workplace opens the pages (leaders,
supervisors, dispatchers, superusers; others 403, the anonymous are sent to log in); a scheme whose
jurisdiction the persona does not see is a 404; publishing needs a leader or supervisor grant over the
scheme's jurisdiction (403 otherwise). Also what the pages show and how bad input is answered."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from civicgrid.assessment import actions
from civicgrid.assessment.models import AssessmentResult, AssessmentScheme, Indicator
from civicgrid.lib import clock
from tests.assessment.routes import COVERED
from tests.overview.test_permissions import USERNAMES, opens_overview, sees
from tests.stats.scenarios import at
from tests.world import PERSONAS, World

ASSESS_ROLES = {"leader", "supervisor"}
SCHEMES = {"tx": "430103", "bjt": "430103002001", "yh": "430111"}


def may_publish(username: str, code: str) -> bool:
    spec = next(p for p in PERSONAS if p.username == username)
    return spec.superuser or (str(spec.role) in ASSESS_ROLES and sees(username, code))


@pytest.fixture(scope="module")
def schemes(shared_world: World, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        for key, code in SCHEMES.items():
            scheme = actions.do_save_scheme(
                AssessmentScheme(
                    code=f"m-{key}", name=f"矩阵{key}", jurisdiction=shared_world.j(code), subject="grid"
                ),
                actor=None,
            )
            actions.do_save_indicator(
                Indicator(scheme=scheme, rate="close_rate", weight=Decimal(100)), actor=None
            )
    return


def test_the_routes_are_declared() -> None:
    from django.urls import get_resolver

    found = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "assessment/":
            found = {"assessment/" + str(p.pattern) for p in getattr(pattern, "url_patterns", [])}
    assert found == COVERED


@pytest.mark.parametrize("username", USERNAMES)
def test_the_matrix(shared_client_for: Callable[[str], Client], schemes: None, username: str) -> None:
    client = shared_client_for(username)
    allowed = opens_overview(username)
    response = client.get("/assessment/")
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        html = response.content.decode()
        for key, code in SCHEMES.items():
            assert (f'id="scheme-m-{key}"' in html) == sees(username, code), (key, html)
    for key, code in SCHEMES.items():
        for page in (f"/assessment/m-{key}/?p=2026-03", f"/assessment/m-{key}/ranking.xlsx?p=2026-03"):
            expected = (200 if sees(username, code) else 404) if allowed else 403
            assert client.get(page).status_code == expected, (page, username)
            assert client.post(page).status_code in (403, 405)
        with clock.frozen(at(2026, 4, 2)):
            response = client.post(f"/assessment/m-{key}/publish/", {"p": "2026-03"})
        if not allowed:
            expected = 403
        elif not sees(username, code):
            expected = 404
        else:
            expected = 303 if may_publish(username, code) else 403
        assert response.status_code == expected, (key, username, response.status_code)
        assert client.get(f"/assessment/m-{key}/publish/").status_code in (403, 404, 405)
    published = AssessmentResult.objects.filter(scheme__code__startswith="m-").count()
    assert published == sum(may_publish(username, code) for code in SCHEMES.values())
    AssessmentResult.objects.all().delete()


def test_the_anonymous_are_sent_to_log_in(client: Client) -> None:
    for page in ("/assessment/", "/assessment/m-tx/", "/assessment/m-tx/ranking.xlsx"):
        response = client.get(page)
        assert response.status_code == 302
        assert "/login/" in response["Location"]
