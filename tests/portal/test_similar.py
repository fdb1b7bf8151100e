"""“Similar open requests nearby” and “I have the same problem”: only open cases of the last 30 days within
300 m, the same kind first, only public-safe fields; support is counted once per resident and rate-limited."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from civicgrid.cases import actions
from civicgrid.lib import clock
from civicgrid.portal.models import PortalPolicy, Support
from civicgrid.portal.queries import distance_m, similar_open_cases
from tests.cases.helpers import BJT_POINT, Catalog, new_case
from tests.world import World

LON, LAT = BJT_POINT
# About 111 m of latitude per 0.001°.
NEAR = (LON, LAT + 0.001)
FAR = (LON, LAT + 0.004)  # ≈ 445 m


def test_distance_is_in_metres() -> None:
    assert 105 < distance_m(LON, LAT, *NEAR) < 115
    assert 440 < distance_m(LON, LAT, *FAR) < 450


def test_it_lists_open_cases_nearby_same_kind_first(world: World, catalog: Catalog) -> None:
    other_kind = new_case(world, point=NEAR, title="别的问题", category=catalog.illegal)
    same_kind = new_case(world, point=(LON, LAT + 0.002), title="同类问题", category=catalog.road)
    new_case(world, point=FAR, title="太远")
    closed = new_case(world, point=NEAR, title="已撤回")
    actions.do_withdraw(closed, reason="群众撤回", actor=None)
    with clock.frozen(clock.now() - timedelta(days=31)):
        new_case(world, point=NEAR, title="太久以前")
    found = similar_open_cases(LON, LAT, catalog.road, at=clock.now())
    assert [n.title for n in found] == ["同类问题", "别的问题"]
    assert found[0].same_kind
    assert not found[1].same_kind
    assert found[0].number == same_kind.number
    assert found[1].number == other_kind.number
    assert 100 <= found[1].metres <= 120
    # Without a category: nearest first.
    assert [n.title for n in similar_open_cases(LON, LAT, None, at=clock.now())] == ["别的问题", "同类问题"]


def test_the_panel_shows_only_public_fields(world: World, catalog: Catalog) -> None:
    new_case(
        world,
        point=NEAR,
        title="井盖缺失",
        description="详细描述不应公开",
        address="某小区3栋2单元",
        reporter_name="李秘密",
        reporter_phone="13711112222",
        category=catalog.road,
    )
    response = Client().get(f"/report/similar/?lon={LON}&lat={LAT}&category={catalog.road.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "井盖缺失" in html
    assert "道路破损" in html
    assert "我也遇到了同样的问题" in html
    for secret in ("详细描述不应公开", "某小区3栋2单元", "李秘密", "13711112222", "1371", "tx_hotline"):
        assert secret not in html, secret


def test_the_panel_without_a_point_invites_a_pin(world: World) -> None:
    for query in ("", "?lon=abc&lat=1", "?lon=112.9&lat=95"):
        response = Client().get(f"/report/similar/{query}")
        assert response.status_code == 200
        assert "定位点" in response.content.decode()


def test_a_resident_supports_an_open_case_once(world: World, policy: PortalPolicy) -> None:
    case = new_case(world, point=NEAR, title="井盖缺失")
    client = Client()
    response = client.post(
        f"/report/support/{case.number}/", {"reporter_phone": "139 0000 1111"}, REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 303
    assert response["Location"] == "/report/"
    support = Support.objects.get(case=case)
    assert support.phone_digest
    assert "13900001111" not in support.phone_digest
    # Again, from the same address (or with the same phone): counted once.
    response = client.post(
        f"/report/support/{case.number}/", {}, REMOTE_ADDR="203.0.113.5", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "已经" in response.content.decode()
    response = client.post(
        f"/report/support/{case.number}/", {"reporter_phone": "13900001111"}, REMOTE_ADDR="203.0.113.6"
    )
    assert Support.objects.filter(case=case).count() == 1
    # Another resident.
    response = client.post(
        f"/report/support/{case.number}/", {}, REMOTE_ADDR="203.0.113.9", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'class="supported"' in response.content.decode()
    assert Support.objects.filter(case=case).count() == 2


def test_support_is_only_for_open_cases_and_only_by_post(world: World, policy: PortalPolicy) -> None:
    case = new_case(world, point=NEAR)
    assert Client().get(f"/report/support/{case.number}/").status_code == 405
    assert Client().post("/report/support/430100-2000-999999/").status_code == 404
    actions.do_withdraw(case, reason="群众撤回", actor=None)
    assert Client().post(f"/report/support/{case.number}/").status_code == 404
    assert Support.objects.count() == 0


def test_support_rejects_a_bad_phone_and_is_rate_limited(world: World, policy: PortalPolicy) -> None:
    case = new_case(world, point=NEAR)
    response = Client().post(
        f"/report/support/{case.number}/", {"reporter_phone": "123"}, REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 422
    assert Support.objects.count() == 0
    policy.submissions_per_ip_per_hour = 1
    policy.save()
    other = new_case(world, point=NEAR, title="另一处")
    assert Client().post(f"/report/support/{case.number}/", REMOTE_ADDR="203.0.113.5").status_code == 303
    response = Client().post(f"/report/support/{other.number}/", REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 429
    assert Support.objects.count() == 1
