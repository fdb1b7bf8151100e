"""Posting and reading requests: the same intake as every channel (validation, grid assignment, idempotency),
what is published to whom, API keys (scope, revocation, rate limits) and the admin that issues them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from civicgrid.cases.actions import do_create_case
from civicgrid.cases.models import Case, Nature
from civicgrid.lib import clock
from civicgrid.open311 import actions
from civicgrid.open311.models import ApiKey, RateWindow, ServiceRequest, ServiceSetting
from tests.open311.conftest import BJT_POINT, O311, YH_POINT, body


def numbers(response: object) -> list[str]:
    return [r["service_request_id"] for r in body(response)]


def descriptions(response: object) -> list[str]:
    return [e["description"] for e in body(response)]


# --- Intake ---------------------------------------------------------------------------------------------


def test_idempotency_key_makes_a_retry_return_the_first_request(o311: O311) -> None:
    first = o311.post_light(headers={"Idempotency-Key": "retry-1"})
    again = o311.post_light(headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 200
    assert numbers(first) == numbers(again)
    assert Case.objects.count() == 1
    assert ServiceRequest.objects.count() == 1
    # The same idempotency key from another client is another request.
    other_key, other = actions.do_issue_api_key(o311.tx, name="other app", actor=None)
    third = o311.post_light(api_key=other, headers={"Idempotency-Key": "retry-1"})
    assert numbers(third) != numbers(first)
    assert ServiceRequest.objects.get(case__number=numbers(third)[0]).api_key == other_key


def test_location_by_point_address_or_address_id(o311: O311) -> None:
    by_point = Case.objects.get(number=numbers(o311.post_light())[0])
    assert by_point.grid_cell is not None
    assert by_point.origin.code == "430103002001"  # the cell's community
    by_address = o311.post_light(lat=None, long=None, address_string="长沙市天心区坡子街街道某小区东门")
    case = Case.objects.get(number=numbers(by_address)[0])
    assert case.origin.code == "430103002"  # the deepest place the address names
    assert case.address == "长沙市天心区坡子街街道某小区东门"
    assert case.grid_cell is None
    by_building = o311.post_light(lat=None, long=None, address_id="430103002001001B01")
    case = Case.objects.get(number=numbers(by_building)[0])
    assert case.origin.code == "430103002001"
    assert case.open311.address_id == "430103002001001B01"
    unknown = o311.post_light(lat=None, long=None, address_id="nope")
    assert unknown.status_code == 400
    assert descriptions(unknown)[0].startswith("address_id:")


def test_a_point_in_another_jurisdiction_is_refused(o311: O311) -> None:
    response = o311.post_light(lat=str(YH_POINT[1]), long=str(YH_POINT[0]))
    assert response.status_code == 400
    assert descriptions(response)[0].startswith("lat:")
    assert "天心区" in descriptions(response)[0]
    assert not Case.objects.exists()
    # The same point through 雨花区's endpoint is taken in there.
    ok = o311.post_light(
        jurisdiction_id="430111", api_key=o311.yh_key, lat=str(YH_POINT[1]), long=str(YH_POINT[0])
    )
    assert ok.status_code == 200
    assert Case.objects.get().origin.code == "430111001001"


def test_answers_are_checked_and_kept(o311: O311) -> None:
    response = o311.post_light(
        **{
            "attribute[hazards][]": ["traffic", "wire"],
            "attribute[count]": "3",
            "attribute[seen_at]": "2026-11-20T21:00:00+08:00",
            "attribute[pole]": "TX-0012",
            "attribute[easting]": "123",  # a client's own extra (FixMyStreet sends these): ignored
        }
    )
    assert response.status_code == 200, response.content
    record = ServiceRequest.objects.get()
    assert record.attributes == {
        "pole": "TX-0012",
        "state": "dark",
        "hazards": ["traffic", "wire"],
        "count": "3",
        "seen_at": "2026-11-20T21:00:00+08:00",
    }
    missing = o311.post_light(**{"attribute[state]": None})
    assert missing.status_code == 400
    assert [d.split(":")[0] for d in descriptions(missing)] == ["attribute[state]"]
    several = o311.post_light(**{"attribute[state]": "purple", "attribute[count]": "many", "phone": "123"})
    assert several.status_code == 400
    assert [d.split(":")[0] for d in descriptions(several)] == [
        "phone",
        "attribute[state]",
        "attribute[count]",
    ]
    assert ServiceRequest.objects.count() == 1


def test_the_contact_goes_to_the_case_and_the_email_is_encrypted(o311: O311) -> None:
    response = o311.post_light(
        first_name="Ann", last_name="Lee", email="ann@example.org", phone="13812345678", device_id="d-1"
    )
    case = Case.objects.get(number=numbers(response)[0])
    assert case.reporter_name == "Ann Lee"
    assert case.reporter_phone == "13812345678"
    assert not case.is_anonymous
    assert case.needs_revisit
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM open311_servicerequest")
        stored = cursor.fetchone()[0]
    assert stored
    assert "ann@example.org" not in stored
    assert ServiceRequest.objects.get().email == "ann@example.org"
    anonymous = Case.objects.get(number=numbers(o311.post_light())[0])
    assert anonymous.is_anonymous
    assert not anonymous.needs_revisit
    # Nothing about the resident is published.
    published = o311.get(f"requests/{case.number}", extensions="true").content.decode()
    for secret in ("Ann", "Lee", "13812345678", "ann@example.org", "d-1"):
        assert secret not in published


# --- What is published ------------------------------------------------------------------------------------


def _case(
    o311: O311, *, nature: str = Nature.HELP, point: tuple[float, float] = BJT_POINT, category: bool = True
) -> Case:
    case, _ = do_create_case(
        channel="hotline",
        nature=nature,
        title="路灯不亮",
        description="路灯不亮",
        category=o311.light if category else None,
        lon=point[0],
        lat=point[1],
        is_anonymous=True,
        actor=None,
    )
    return case


def test_publication_rules(o311: O311) -> None:
    public = _case(o311)
    report = _case(o311, nature=Nature.REPORT)  # 举报: never published
    unclassified = _case(o311, category=False)
    elsewhere = _case(o311, point=YH_POINT)
    listed = numbers(o311.get("requests"))
    assert public.number in listed
    assert report.number not in listed
    assert unclassified.number not in listed
    assert elsewhere.number not in listed
    assert numbers(o311.get("requests", jurisdiction_id="430111")) == [elsewhere.number]
    for hidden in (report, unclassified, elsewhere):
        assert o311.get(f"requests/{hidden.number}").status_code == 404
    # A private group keeps the requests of every service under it out of every list and feed.
    actions.do_save_service_setting(ServiceSetting(category=o311.light.parent, is_private=True), actor=None)
    assert public.number not in numbers(o311.get("requests"))
    assert public.number not in [u["service_request_id"] for u in body(o311.get("servicerequestupdates"))]
    assert o311.get(f"requests/{public.number}").status_code == 404


def test_private_services_and_unpublished_endpoints(o311: O311) -> None:
    case = _case(o311)
    actions.do_save_service_setting(ServiceSetting(category=o311.light, is_private=True), actor=None)
    assert case.number not in numbers(o311.get("requests"))
    assert case.number not in [u["service_request_id"] for u in body(o311.get("servicerequestupdates"))]
    # The client that posted a request may always follow it, with its key.
    own = numbers(o311.post_light())[0]
    assert own not in numbers(o311.get("requests"))
    assert own in numbers(o311.get("requests", api_key=o311.key))
    assert o311.get(f"requests/{own}", api_key=o311.key).status_code == 200
    # An endpoint that does not publish shows each client only its own requests.
    o311.tx.publish_requests = False
    actions.do_save_endpoint(o311.tx, actor=None)
    ServiceSetting.objects.all().delete()
    assert numbers(o311.get("requests")) == []
    assert numbers(o311.get("requests", api_key=o311.key)) == [own]


# --- Keys -----------------------------------------------------------------------------------------------


def test_keys_are_scoped_and_revocable(o311: O311) -> None:
    wrong_endpoint = o311.post_light(api_key=o311.yh_key)
    assert wrong_endpoint.status_code == 403
    assert o311.post_light(api_key="o311_" + "x" * 43).status_code == 403
    assert o311.post_light(api_key=None).status_code == 403
    assert o311.get("requests", api_key="nonsense").status_code == 403  # a key that is given must be valid
    key = ApiKey.objects.get(endpoint=o311.tx)
    assert key.digest == actions.key_digest(o311.key)  # only the digest is stored
    assert o311.post_light().status_code == 200
    actions.do_revoke_api_key(key, actor=None)
    assert o311.post_light().status_code == 403
    assert Case.objects.count() == 1


def test_rate_limit_per_key_and_minute(o311: O311) -> None:
    key = ApiKey.objects.get(endpoint=o311.tx)
    key.requests_per_minute = 2
    key.save()
    start = clock.now().replace(second=5)
    with clock.frozen(start):
        assert o311.get("services", api_key=o311.key).status_code == 200
        assert o311.post_light().status_code == 200
        limited = o311.post_light()
        assert limited.status_code == 429
        assert body(limited)[0]["code"] == 429
        assert o311.get("services").status_code == 200  # without a key: not counted against it
    with clock.frozen(start + timedelta(minutes=1)):
        assert o311.post_light().status_code == 200
    assert Case.objects.count() == 2
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=None)
    with clock.frozen(start + timedelta(hours=2)):
        assert actions.do_prune_rate_windows(actor=None) == 2
    assert not RateWindow.objects.exists()


def test_admin_issues_a_key_once_and_revokes_it(o311: O311, client_for: Callable[[str], Client]) -> None:
    admin = client_for("tx_admin")
    response = admin.post(
        "/admin/open311/apikey/add/",
        {
            "name": "街道随手拍",
            "endpoint": o311.tx.pk,
            "contact": "dev@example.org",
            "requests_per_minute": 30,
        },
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="街道随手拍")
    shown = [str(m) for m in response.context["messages"]]
    secret = next(word for m in shown for word in m.split() if word.startswith("o311_"))
    assert actions.key_digest(secret) == key.digest
    assert key.created_by is not None
    assert o311.post_light(api_key=secret).status_code == 200
    # Another district's endpoint is not the 天心区 administrator's to issue keys for.
    with pytest.raises(PermissionDenied):
        actions.do_issue_api_key(o311.yh, name="x", actor=o311.world.u("tx_admin"))
    admin.post(
        "/admin/open311/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert o311.post_light(api_key=secret).status_code == 403


def test_jurisdiction_id_is_optional_when_one_endpoint_is_served(o311: O311) -> None:
    assert o311.get("services", jurisdiction_id=None).status_code == 400  # two endpoints are active
    o311.yh.is_active = False
    actions.do_save_endpoint(o311.yh, actor=None)
    assert o311.get("services", jurisdiction_id=None).status_code == 200
    assert o311.get("services", jurisdiction_id="").status_code == 200  # empty = absent
    assert o311.get("services", jurisdiction_id="430111").status_code == 404


def test_staff_see_the_answers_on_the_case_page(o311: O311, client_for: Callable[[str], Client]) -> None:
    number = numbers(
        o311.post_light(**{"attribute[hazards][]": ["wire"], "media_url": "https://example.org/p.jpg"})
    )[0]
    page = client_for("tx_dispatcher").get(f"/cases/{number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "问题 state" in html
    assert "不亮" in html  # the value's name, not its key
    assert "电线外露" in html
    assert "https://example.org/p.jpg" in html
    assert "app" in html  # the client's name


def test_numbers_written_into_the_text_are_published_masked(o311: O311) -> None:
    text = "路灯不亮，请联系我13812345678，身份证430103199001011234"
    number = numbers(o311.post_light(description=text))[0]
    published = o311.get(f"requests/{number}", extensions="true").content.decode()
    assert "13812345678" not in published
    assert "430103199001011234" not in published
    assert "138****5678" in published
    # Staff still see the resident's own words on the case page (masking is for publishing).
    assert Case.objects.get(number=number).description.endswith("430103199001011234")
