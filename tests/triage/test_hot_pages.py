"""Who sees which hot topic: every persona × a topic of 八角亭 (天心区) and one of 雨花区, on the topic page and in
the overview's section, against the overview's own oracle (tests/overview/test_permissions.py): the leaders'
workplace opens the page (others 403, the anonymous are sent to log in); a topic none of whose cases the
persona may see is a 404 (as is one that does not exist); nothing here accepts a POST. A topic half inside
the jurisdiction shows only its visible half."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from civicgrid.cases.models import Case
from civicgrid.lib.clock import frozen
from civicgrid.triage.actions.hot import do_compute_hot_topics
from civicgrid.triage.models import HotTopic
from tests.cases.helpers import BJT_POINT, YH_POINT, new_case
from tests.overview.test_permissions import USERNAMES, opens_overview, sees
from tests.triage.test_hot import LAMPS, MIXER, NOW, OTHERS
from tests.world import World

PLACES = {"tx": "430103002001", "yh": "430111"}


@pytest.fixture(scope="module")
def topics(shared_world: World, django_db_blocker: Any) -> dict[str, HotTopic]:
    """tx: three lamp reports at 八角亭; yh: four mixer complaints in 雨花区; other matters around them."""
    with django_db_blocker.unblock():
        with frozen(NOW - timedelta(days=2)):
            for title, body in LAMPS:
                new_case(shared_world, actor=None, title=title, description=body, point=BJT_POINT)
            for title, body in MIXER:
                new_case(shared_world, actor=None, title=title, description=body, point=YH_POINT)
            for title, body in OTHERS:
                new_case(shared_world, actor=None, title=title, description=body, point=BJT_POINT)
        run = do_compute_hot_topics(now=NOW, actor=None)
        found = {("yh" if t.size == 4 else "tx"): t for t in run.topics.all()}
    assert sorted(found) == ["tx", "yh"]
    return found


def test_the_routes_are_declared() -> None:
    from tests.triage.routes import COVERED

    assert "triage/hot/<int:pk>/" in COVERED


@pytest.mark.parametrize("username", USERNAMES)
def test_the_matrix(
    shared_client_for: Callable[[str], Client], topics: dict[str, HotTopic], username: str
) -> None:
    client = shared_client_for(username)
    allowed = opens_overview(username)
    for key, topic in topics.items():
        url = f"/triage/hot/{topic.pk}/"
        response = client.get(url)
        expected = (200 if sees(username, PLACES[key]) else 404) if allowed else 403
        assert response.status_code == expected, (url, username, response.status_code)
        if expected == 200:
            html = response.content.decode()
            numbers = Case.objects.filter(pk__in=topic.members.values("case_id")).values_list(
                "number", flat=True
            )
            for number in numbers:
                assert f'href="/cases/{number}/"' in html
        assert client.post(url).status_code == (405 if allowed else 403)
    assert client.get("/triage/hot/999999/").status_code == (404 if allowed else 403)
    if allowed:
        html = client.get("/overview/").content.decode()
        for key, topic in topics.items():
            # The overview opens on the persona's own jurisdiction: the topics of its area that it may see.
            assert (f'id="hot-topic-{topic.pk}"' in html) == sees(username, PLACES[key]), (key, username)


def test_the_anonymous_are_sent_to_log_in(topics: dict[str, HotTopic], db: None) -> None:
    response = Client().get(f"/triage/hot/{topics['tx'].pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_page_shows_the_topic(
    shared_client_for: Callable[[str], Client], topics: dict[str, HotTopic]
) -> None:
    topic = topics["tx"]
    html = shared_client_for("tx_leader").get(f"/triage/hot/{topic.pk}/").content.decode()
    assert f"<h1>{topic.title}</h1>" in html
    assert 'id="hot-size">3<' in html
    assert "路灯" in topic.terms.split()
    assert '<span class="tag">路灯</span>' in html
    assert topic.place in html  # 坡子街街道 八角亭社区
    overview = shared_client_for("tx_leader").get("/overview/?j=430103").content.decode()
    assert 'id="hot-topics"' in overview
    assert topic.title in overview
