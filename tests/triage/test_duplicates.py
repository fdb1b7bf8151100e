"""Possible duplicates (civicgrid/triage/duplicates.py) and the case page's panel: the text measure and the
score; the radius, the window, the community fallback and the user's scope; merged, closed and the case
itself never offered; the merge button only for who may merge, and the one-click merge going through the
lifecycle's do_merge."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from civicgrid.cases.actions import do_dispatch, do_merge, do_register, do_void
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.workflow import Status
from civicgrid.lib import clock
from civicgrid.triage import duplicates as dup
from civicgrid.triage.duplicates import Candidate, duplicates_of, features, find_duplicates, similarity
from tests.cases.helpers import BJT_POINT, build_catalog, new_case
from tests.world import World

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
NEAR = (112.911, 28.111)  # ~150 m from BJT_POINT, same grid cell (八角亭)
FAR = (112.915, 28.11)  # ~490 m away
TITLE = "八角亭小区门口路灯不亮"
TEXT = "八角亭小区东门口的三盏路灯已经坏了一个多星期，晚上一片漆黑，老人小孩出门很不安全，请尽快修好。"
REPHRASED_TITLE = "反映八角亭小区门口路灯坏了"
REPHRASED = "你好，我要反映一下，八角亭小区东门口路灯坏了一个多星期，晚上出门很不安全，希望尽快处理。"
OTHER_TITLE = "楼上住户装修噪音扰民"
OTHER = "楼上邻居每天早上七点就开始电钻装修，周末也不停，严重影响休息，请社区协调。"


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def case_at(world: World, days: float, **fields: Any) -> Case:
    with clock.frozen(at(days)):
        return new_case(world, **fields)


def numbers(found: list[Candidate]) -> list[str]:
    return [c.number for c in found]


def search(world: World, user: str = "tx_dispatcher", **kw: Any) -> list[Candidate]:
    values: dict[str, Any] = {
        "title": REPHRASED_TITLE,
        "description": REPHRASED,
        "lon": NEAR[0],
        "lat": NEAR[1],
        "at": at(2),
    }
    values.update(kw)
    return find_duplicates(user=world.u(user), **values)


# --- The text measure and the score (pure) -----------------------------------------------------------------


def test_normalising_keeps_letters_and_digits_only() -> None:
    assert dup.normalise("Ａ市，１２号　楼！\n漏水?") == "a市12号楼漏水"
    assert dup.bigrams("漏水") == frozenset({"漏水"})
    assert dup.bigrams("水") == frozenset({"水"})
    assert dup.bigrams(" ，。") == frozenset()


def test_similarity_ranks_a_rephrasing_above_another_request() -> None:
    original = features(TITLE, TEXT)
    assert similarity(original, features(TITLE, TEXT)) == pytest.approx(1.0)
    rephrased = similarity(original, features(REPHRASED_TITLE, REPHRASED))
    other = similarity(original, features(OTHER_TITLE, OTHER))
    assert rephrased >= 0.30 > other
    assert other < 0.1
    # Symmetric, and 0 for nothing.
    assert similarity(features(REPHRASED_TITLE, REPHRASED), original) == pytest.approx(rephrased)
    assert similarity(original, features("", "")) == 0.0


def test_the_title_weighs_a_share_and_a_missing_title_leaves_the_whole_text() -> None:
    a, b = features(TITLE, TEXT), features(REPHRASED_TITLE, REPHRASED)
    whole, title = dup.cosine(a.whole, b.whole), dup.cosine(a.title, b.title)
    assert similarity(a, b) == pytest.approx(0.3 * title + 0.7 * whole)
    untitled = features("", REPHRASED)
    assert similarity(a, untitled) == pytest.approx(dup.cosine(a.whole, untitled.whole))


def test_the_score_prefers_nearer_and_closer_in_time() -> None:
    best = dup.score_of(0.5, 0.0, 200, 0.0, 7)
    assert best == pytest.approx(0.5)
    assert dup.score_of(0.5, 100.0, 200, 0.0, 7) < best
    assert dup.score_of(0.5, 0.0, 200, 3.5, 7) < best
    assert dup.score_of(0.5, 0.0, 200, -3.5, 7) == dup.score_of(0.5, 0.0, 200, 3.5, 7)
    assert dup.score_of(0.5, None, 200, 0.0, 7) == pytest.approx(0.5 * (0.7 + 0.2 * 0.5 + 0.1))
    assert dup.score_of(0.5, 200.0, 200, 7.0, 7) == pytest.approx(0.35)
    assert dup.distance_m(*BJT_POINT, *NEAR) == pytest.approx(148, abs=3)


# --- The search ------------------------------------------------------------------------------------------


def test_a_rephrased_request_nearby_is_found_with_its_facts(world: World) -> None:
    original = case_at(world, 0, title=TITLE, description=TEXT)
    case_at(world, 1, title=OTHER_TITLE, description=OTHER)  # nearby, but another request
    found = search(world)
    assert numbers(found) == [original.number]
    c = found[0]
    assert c.title == TITLE
    assert c.status == Status.RECEIVED
    assert c.status_label == str(Status.RECEIVED.label)
    assert c.metres == pytest.approx(148, abs=3)
    assert c.received_at == at(0)
    assert 0.30 <= c.similarity <= 1
    assert 0 < c.score < c.similarity


def test_ranked_by_score_and_limited(world: World) -> None:
    far_in_time = case_at(world, -4, title=TITLE, description=TEXT)
    close = case_at(world, 1.9, title=TITLE, description=TEXT, point=NEAR)
    found = search(world)
    assert numbers(found) == [close.number, far_in_time.number]
    assert found[0].score > found[1].score
    assert numbers(search(world, limit=1)) == [close.number]


def test_the_window_and_the_radius_bound_the_search(world: World) -> None:
    case_at(world, -5.5, title=TITLE, description=TEXT)  # 7.5 days before the search
    case_at(world, 9.5, title=TITLE, description=TEXT)  # 7.5 days after
    case_at(world, 1, title=TITLE, description=TEXT, point=FAR)  # ~490 m away
    assert search(world) == []
    inside = case_at(world, 8.5, title=TITLE, description=TEXT)  # 6.5 days after: on either side
    assert numbers(search(world)) == [inside.number]


def test_the_policy_sets_radius_window_and_threshold(world: World) -> None:
    from civicgrid.triage.policy import policy

    far = case_at(world, 1, title=TITLE, description=TEXT, point=FAR)
    rules = policy()
    rules.duplicate_radius_m = 600
    rules.save()
    assert numbers(search(world)) == [far.number]
    rules.duplicate_min_similarity = Decimal("0.99")
    rules.save()
    assert search(world) == []
    assert numbers(search(world, min_similarity=0.0)) == [far.number]


def test_without_a_point_the_same_community_is_searched(world: World) -> None:
    bjt = case_at(world, 0, title=TITLE, description=TEXT)  # a point in 八角亭
    xpl = case_at(world, 0, title=TITLE, description=TEXT, lon=None, lat=None,
                  jurisdiction=world.j("430103002002"))  # fmt: skip
    found = search(world, lon=None, lat=None, jurisdiction=world.j("430103002001"))
    assert numbers(found) == [bjt.number]
    assert found[0].metres is None
    assert numbers(search(world, lon=None, lat=None, jurisdiction=world.j("430103002002"))) == [xpl.number]
    # The street holds both communities.
    street = search(world, lon=None, lat=None, jurisdiction=world.j("430103002"))
    assert sorted(numbers(street)) == sorted([bjt.number, xpl.number])
    # With a point, cases of its community that have no point count too; other communities do not.
    no_point = case_at(world, 0, title=TITLE, description=TEXT, lon=None, lat=None,
                       jurisdiction=world.j("430103002001"))  # fmt: skip
    assert sorted(numbers(search(world))) == sorted([bjt.number, no_point.number])
    # Neither point nor place: nothing to judge "nearby" by.
    assert search(world, lon=None, lat=None) == []


def test_only_cases_the_user_sees(world: World) -> None:
    original = case_at(world, 0, title=TITLE, description=TEXT)
    assert numbers(search(world, "bjt_leader")) == [original.number]
    assert search(world, "yh_dispatcher") == []
    assert search(world, "tx_cg_handler") == []  # a unit sees only the cases it was given
    assert numbers(search(world, "root")) == [original.number]


def test_merged_closed_and_the_case_itself_are_not_offered(world: World) -> None:
    original = case_at(world, 0, title=TITLE, description=TEXT)
    merged = case_at(world, 0.5, title=TITLE, description=TEXT)
    voided = case_at(world, 0.6, title=TITLE, description=TEXT)
    do_merge(merged, master=original, reason="重复", actor=None)
    do_void(voided, reason="无效", actor=None)
    assert numbers(search(world)) == [original.number]
    later = case_at(world, 2, title=REPHRASED_TITLE, description=REPHRASED, point=NEAR)
    assert numbers(duplicates_of(later, user=world.u("tx_dispatcher"))) == [original.number]
    assert numbers(duplicates_of(original, user=world.u("tx_dispatcher"))) == [later.number]


def test_open_cases_further_on_are_offered(world: World) -> None:
    catalog = build_catalog()
    original = case_at(world, 0, title=TITLE, description=TEXT)
    do_register(original, category=catalog.road, actor=None)
    do_dispatch(original, lead=world.units["430103-cg"], actor=None)
    found = search(world)
    assert numbers(found) == [original.number]
    assert found[0].status == Status.DISPATCHED
    assert found[0].category == "道路破损"


def test_one_query_whatever_the_number_of_candidates(
    world: World, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    for day in range(5):
        case_at(world, day * 0.3, title=TITLE, description=TEXT)
    user = world.u("tx_dispatcher")
    search(world)  # the user's scope and the policy row are read once and cached
    # The policy row, the grid index's freshness check (at most once every few seconds outside the tests)
    # and the one search.
    with django_assert_max_num_queries(3):
        found = find_duplicates(user=user, title=TITLE, description=TEXT, lon=NEAR[0], lat=NEAR[1], at=at(2))
    assert len(found) == 5


# --- The case page's panel ----------------------------------------------------------------------------------


@pytest.fixture
def pair(world: World) -> tuple[Case, Case]:
    """An original and, two days later and 150 m away, a second call about the same lamp (both received)."""
    original = case_at(world, 0, title=TITLE, description=TEXT)
    second = case_at(world, 2, title=REPHRASED_TITLE, description=REPHRASED, point=NEAR)
    return original, second


def panel(client: Client, number: str) -> str:
    response = client.get(f"/cases/{number}/")
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(r'<section class="panel duplicates".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_the_panel_lists_the_duplicate_and_offers_the_merge(
    pair: tuple[Case, Case], client_for: Callable[[str], Client]
) -> None:
    original, second = pair
    html = panel(client_for("tx_dispatcher"), second.number)
    assert f'href="/cases/{original.number}/"' in html
    assert TITLE in html
    assert f'action="/cases/{second.number}/act/merge/"' in html
    assert f'name="merge-master" value="{original.number}"' in html
    assert '<details class="merge-confirm">' in html  # the confirm step


@pytest.mark.parametrize(
    ("username", "merge"),
    [("tx_dispatcher", True), ("tx_hotline", True), ("root", True), ("tx_leader", False),
     ("tx_supervisor", False), ("bjt_leader", False), ("pzj_window", False)],
)  # fmt: skip
def test_the_merge_button_only_for_who_may_merge(
    pair: tuple[Case, Case], client_for: Callable[[str], Client], username: str, merge: bool
) -> None:
    """The case sits at 天心区's desk (the hotline took it in): its intake and dispatch desks may merge it.
    Leaders and supervisors, and the desks below that see it where it happened (the street's window, the
    community's grid leader), see the panel, not the button."""
    _original, second = pair
    html = panel(client_for(username), second.number)
    assert "duplicate-list" in html
    assert ("merge-confirm" in html) is merge


def test_no_button_once_the_case_is_past_registration(
    world: World, pair: tuple[Case, Case], client_for: Callable[[str], Client]
) -> None:
    catalog = build_catalog()
    original, second = pair
    do_register(second, category=catalog.road, actor=None)
    do_dispatch(second, lead=world.units["430103-cg"], actor=None)
    html = panel(client_for("tx_dispatcher"), second.number)
    assert f'href="/cases/{original.number}/"' in html
    assert "merge-confirm" not in html


def test_no_panel_for_a_closed_case(
    world: World, pair: tuple[Case, Case], client_for: Callable[[str], Client]
) -> None:
    _original, second = pair
    do_void(second, reason="无效", actor=None)
    assert panel(client_for("tx_dispatcher"), second.number) == ""


def test_an_empty_panel_says_so(world: World, client_for: Callable[[str], Client]) -> None:
    alone = case_at(world, 0, title=TITLE, description=TEXT)
    html = panel(client_for("tx_dispatcher"), alone.number)
    assert 'id="no-duplicates"' in html


def test_the_one_click_merge_goes_through_do_merge(
    pair: tuple[Case, Case], client_for: Callable[[str], Client]
) -> None:
    original, second = pair
    client = client_for("tx_dispatcher")
    html = panel(client, second.number)
    # What the panel's form posts, read off the page (hidden fields and the prefilled reason).
    fields = dict(re.findall(r'<input type="(?:hidden|text)"[^>]*?name="([^"]+)" value="([^"]*)"', html))
    assert fields["merge-master"] == original.number
    assert fields["merge-reason"]
    response = client.post(f"/cases/{second.number}/act/merge/", fields)
    assert response.status_code == 303
    assert response["Location"] == f"/cases/{second.number}/#timeline-h"
    second.refresh_from_db()
    assert second.status == Status.MERGED
    assert second.duplicate_of_id == original.pk
    event = CaseEvent.objects.filter(case=second, code="merge").get()
    assert event.data["master"] == original.number
    assert event.data["reason"] == fields["merge-reason"]
    assert event.actor is not None
    assert event.actor.username == "tx_dispatcher"
    # The merged case is no longer offered on the master's page; the master has no button (it is the master).
    assert panel(client, original.number).count("duplicate-list") == 0


def test_a_stale_merge_is_refused(pair: tuple[Case, Case], client_for: Callable[[str], Client]) -> None:
    original, second = pair
    client = client_for("tx_dispatcher")
    data = {"merge-version": str(second.version - 1), "merge-master": original.number, "merge-reason": "重复"}
    response = client.post(f"/cases/{second.number}/act/merge/", data)
    assert response.status_code == 409
    second.refresh_from_db()
    assert second.status == Status.RECEIVED
