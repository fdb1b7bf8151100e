"""Who opens the smart-routing page and the intake suggestions: every persona, against an oracle restated
here — the page is the leaders' workplace (leaders, supervisors, dispatchers, superusers); the suggestions
serve whoever takes or registers cases (the hotline and case workplaces); others 403, the anonymous log in.
Also what the suggestion fragment says for good and for bad text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from civicgrid.accounts.models import Role
from civicgrid.cases.models import Category
from civicgrid.triage.actions import models as actions
from civicgrid.triage.models import ModelSource
from tests.triage.helpers import build_classes, labelled  # noqa: F401 (the fixture, used by the mark below)
from tests.world import PERSONAS, World

OVERVIEW = {Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER}
INTAKE = {
    Role.INTAKE_OPERATOR,
    Role.DISPATCHER,
    Role.WINDOW_CLERK,
    Role.GRID_LEADER,
    Role.HANDLER,
    Role.MEDIATOR,
    Role.SUPERVISOR,
    Role.LEADER,
}
USERNAMES = [p.username for p in PERSONAS]

pytestmark = pytest.mark.usefixtures("labelled")


@pytest.fixture
def trained(world: World) -> dict[str, Category]:
    classes = build_classes()
    run = actions.do_request_training(source=ModelSource.FILE, actor=None)
    actions.do_train(run, actor=None)
    return classes


@pytest.mark.parametrize("username", USERNAMES)
def test_the_matrix(world: World, client_for: Callable[[str], Client], username: str) -> None:
    p = next(x for x in PERSONAS if x.username == username)
    client = client_for(username)
    page = client.get("/triage/")
    assert page.status_code == (200 if p.superuser or p.role in OVERVIEW else 403)
    fragment = client.post("/triage/suggest/", {"title": "路灯不亮"})
    assert fragment.status_code == (200 if p.superuser or p.role in INTAKE else 403)
    assert client.get("/triage/suggest/").status_code in (403, 405)


def test_the_anonymous_are_sent_to_log_in(db: None) -> None:
    client = Client()
    for response in (client.get("/triage/"), client.post("/triage/suggest/", {"title": "x"})):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_fragment_offers_the_top_three(
    trained: dict[str, Category], client_for: Callable[[str], Client]
) -> None:
    html = (
        client_for("tx_hotline")
        .post(
            "/triage/suggest/", {"title": "学校乱收费", "description": "孩子所在小学要求家长交补课费和资料费"}
        )
        .content.decode()
    )
    assert html.count('class="suggest-pick') == 3
    assert f'data-category="{trained["教育文体"].code}"' in html.split("suggest-pick")[1]
    assert "模型 v1" in html


@pytest.mark.parametrize(
    ("title", "description", "says"),
    [
        ("", "", "诉求尚无文字"),
        ("？？？", "!!!", "没有可供判断的字词"),
        ("x" * 5000, "", "在训练中都未出现过"),
    ],
)
def test_bad_text_gets_no_suggestion_not_an_error(
    trained: dict[str, Category], client_for: Callable[[str], Client], title: str, description: str, says: str
) -> None:
    response = client_for("tx_hotline").post("/triage/suggest/", {"title": title, "description": description})
    assert response.status_code == 200
    html = response.content.decode()
    assert says in html
    assert "suggest-pick" not in html


def test_without_a_model_the_page_and_fragment_say_so(
    world: World, client_for: Callable[[str], Client]
) -> None:
    assert "尚未训练模型" in client_for("tx_leader").get("/triage/").content.decode()
    html = client_for("tx_hotline").post("/triage/suggest/", {"title": "路灯"}).content.decode()
    assert "尚未训练模型" in html


def test_the_page_shows_the_model_and_how_it_fared(
    trained: dict[str, Category], client_for: Callable[[str], Client]
) -> None:
    html = client_for("tx_leader").get("/triage/").content.decode()
    assert 'id="active-version">v1<' in html
    assert "自动派单已关闭" in html
