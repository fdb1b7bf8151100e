"""Submitting a request on the resident portal: the case it creates, the receipt, double submits, bad input
kept at the field, photos, the honeypot and the rate limits."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.cases.models import Case, CasePhoto, Category
from civicgrid.portal import links
from civicgrid.portal.models import PortalPolicy, SubmissionKind, SubmissionLog, TrackingLink
from tests.cases.helpers import Catalog
from tests.portal.helpers import (
    REPORTER_NAME,
    REPORTER_PHONE,
    case_of,
    field_error,
    report_data,
    secret_from,
    submit,
    value_of,
)
from tests.world import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_form_offers_everything_a_resident_needs(policy: PortalPolicy, catalog: Catalog) -> None:
    response = Client().get("/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="form_key"' in html
    assert links.KEY_PREFIX not in value_of(html, "form_key")
    assert "novalidate" in html
    assert 'enctype="multipart/form-data"' in html
    # The category picker: groups by first-level category; leaves read "second / third level".
    assert '<optgroup label="城乡建设">' in html
    assert "市政管理 / 道路破损" in html
    # The place select offers only the service area's streets and communities.
    assert "八角亭社区" in html
    assert "坡子街街道" in html
    assert "梓园社区" not in html
    assert "侯家塘街道" not in html
    # The honeypot is hidden from people and out of the keyboard's way.
    assert '<div class="honeypot" aria-hidden="true">' in html
    assert 'name="website"' in html
    assert 'tabindex="-1"' in html
    assert 'autocomplete="off"' in html
    # A fresh idempotency key on every rendering.
    assert value_of(html, "form_key") != value_of(Client().get("/report/").content.decode(), "form_key")


def test_a_request_becomes_a_web_case_with_a_receipt(policy: PortalPolicy, catalog: Catalog) -> None:
    client = Client()
    response, data = submit(client, category=str(catalog.road.pk), nature="complaint")
    secret = secret_from(response)
    case = case_of(secret)
    assert case.channel == "web"
    assert case.kind == "appeal"
    assert case.nature == "complaint"
    assert case.created_by is None
    assert case.status == "received"
    assert case.title == "路灯不亮"
    assert case.category == catalog.road
    assert case.grid_cell is not None
    assert case.grid_cell.code == "430103002001001"
    assert case.reporter_name == REPORTER_NAME
    assert case.reporter_phone == REPORTER_PHONE
    assert case.intake_key == links.KEY_PREFIX + data["form_key"]
    # Only the digest of the secret is stored.
    link = TrackingLink.objects.get(case=case)
    assert link.secret_digest == links.secret_digest(secret)
    assert secret not in link.secret_digest
    assert len(secret) >= 32

    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    html = receipt.content.decode()
    assert case.number in html
    assert f"/track/{secret}/" in html
    assert 'id="expected-reply"' in html
    assert "—" not in html.split('id="expected-reply">')[1][:20]
    assert REPORTER_NAME not in html
    assert REPORTER_PHONE not in html


def test_a_double_submit_returns_the_first_case_and_the_same_link(policy: PortalPolicy) -> None:
    client = Client()
    data = report_data()
    first = client.post("/report/", data, REMOTE_ADDR="203.0.113.7")
    second = client.post("/report/", data, REMOTE_ADDR="203.0.113.7")
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1
    # The retry was not counted against the limits.
    assert SubmissionLog.objects.filter(kind=SubmissionKind.REPORT).count() == 1


def test_a_logged_in_staff_member_reports_as_a_resident(
    policy: PortalPolicy, client_for: Callable[[str], Client]
) -> None:
    response, _data = submit(client_for("tx_hotline"))
    case = case_of(secret_from(response))
    assert case.created_by is None
    assert case.channel == "web"


def test_without_a_pin_the_street_or_community_routes_it(policy: PortalPolicy, world: World) -> None:
    response, _data = submit(Client(), lon="", lat="", jurisdiction=str(world.j("430103002002").pk))
    case = case_of(secret_from(response))
    assert case.origin == world.j("430103002002")
    assert case.grid_cell is None
    assert case.lon is None
    assert case.address == "八角亭路12号"


def test_without_a_pin_or_a_place_the_error_is_at_the_place_select(policy: PortalPolicy) -> None:
    response, _data = submit(Client(), lon="", lat="")
    assert response.status_code == 422
    html = response.content.decode()
    assert "请在地图上放置定位点，或选择所在街道或社区" in field_error(html, "jurisdiction")
    assert value_of(html, "title") == "路灯不亮"
    assert value_of(html, "address") == "八角亭路12号"
    assert Case.objects.count() == 0


def test_an_empty_description_is_reported_at_the_field_and_the_rest_is_kept(policy: PortalPolicy) -> None:
    response, data = submit(Client(), description="   ")
    assert response.status_code == 422
    html = response.content.decode()
    assert field_error(html, "description") == "这个字段是必填项。"
    assert (
        'aria-invalid="true"'
        in html.split('name="description"')[0][-300:] + html.split('name="description"')[1][:300]
    )
    assert 'class="error-summary"' in html
    assert 'href="#id_description"' in html
    for name in ("title", "address", "reporter_name", "reporter_phone", "lon", "lat", "form_key"):
        assert value_of(html, name) == data[name], name
    assert Case.objects.count() == 0
    assert SubmissionLog.objects.count() == 0


def test_a_phone_is_needed_unless_anonymous(policy: PortalPolicy) -> None:
    response, _data = submit(Client(), reporter_phone="", reporter_name="")
    assert response.status_code == 422
    assert "匿名" in field_error(response.content.decode(), "reporter_phone")

    response, _data = submit(Client(), reporter_phone="", reporter_name="", is_anonymous="on")
    case = case_of(secret_from(response))
    assert case.is_anonymous
    assert case.reporter_phone == ""


def test_a_bad_phone_number_is_reported_at_the_field(policy: PortalPolicy) -> None:
    response, _data = submit(Client(), reporter_phone="12345")
    assert response.status_code == 422
    html = response.content.decode()
    assert "11 位手机号码" in field_error(html, "reporter_phone")
    assert value_of(html, "reporter_phone") == "12345"
    assert Case.objects.count() == 0


def test_a_place_outside_the_service_area_is_refused(policy: PortalPolicy, world: World) -> None:
    response, _data = submit(Client(), lon="", lat="", jurisdiction=str(world.j("430111001001").pk))
    assert response.status_code == 422
    assert field_error(response.content.decode(), "jurisdiction")
    assert Case.objects.count() == 0


def test_an_edited_category_is_refused(policy: PortalPolicy, catalog: Catalog) -> None:
    for value in ("999999", "abc"):
        response, _data = submit(Client(), category=value)
        assert response.status_code == 422
        assert field_error(response.content.decode(), "category"), value
    catalog.road.is_active = False
    catalog.road.save()
    response, _data = submit(Client(), category=str(catalog.road.pk))
    assert response.status_code == 422
    assert Case.objects.count() == 0


def test_an_edited_point_is_refused_at_the_place_select(policy: PortalPolicy) -> None:
    response, _data = submit(Client(), lon="500", lat="28.11")
    assert response.status_code == 422
    assert field_error(response.content.decode(), "jurisdiction")
    # A point in no grid cell and no place chosen: the case action's error, shown at the same field.
    response, _data = submit(Client(), lon="100.0", lat="20.0")
    assert response.status_code == 422
    assert "网格" in field_error(response.content.decode(), "jurisdiction")
    assert Case.objects.count() == 0


def test_photos_are_checked_by_the_case_action(policy: PortalPolicy) -> None:
    good = SimpleUploadedFile("hole.png", PNG, content_type="image/png")
    response, _data = submit(Client(), photos=[good])
    case = case_of(secret_from(response))
    assert CasePhoto.objects.filter(case=case, stage="intake", content_type="image/png").count() == 1

    bad = SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png")
    response, _data = submit(Client(), photos=[bad])
    assert response.status_code == 422
    html = response.content.decode()
    assert "notes.png" in field_error(html, "photos")
    assert "请重新选择" in html  # the browser forgets chosen files; the resident is told
    too_many = [SimpleUploadedFile(f"{n}.png", PNG, content_type="image/png") for n in range(4)]
    response, _data = submit(Client(), photos=too_many)
    assert response.status_code == 422
    assert "3" in field_error(response.content.decode(), "photos")
    assert Case.objects.count() == 1


def test_a_filled_honeypot_pretends_success_and_writes_no_case(
    policy: PortalPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="civicgrid.portal.actions"):
        response, _data = submit(Client(), website="http://spam.example")
    assert response.status_code == 303
    assert response["Location"] == "/report/thanks/"
    assert Client().get("/report/thanks/").status_code == 200
    assert Case.objects.count() == 0
    assert SubmissionLog.objects.filter(kind=SubmissionKind.HONEYPOT).count() == 1
    assert "honeypot" in caplog.text


def test_too_many_requests_from_one_address_get_a_429_with_the_form_kept(policy: PortalPolicy) -> None:
    policy.submissions_per_ip_per_hour = 2
    policy.save()
    response, _data = submit(Client(), ip="198.51.100.1", reporter_phone="")
    assert response.status_code == 422  # a form with errors is not counted
    for phone in ("13800000001", "13800000002"):
        response, _data = submit(Client(), ip="198.51.100.1", reporter_phone=phone)
        assert response.status_code == 303
    response, _data = submit(Client(), ip="198.51.100.1", title="第三次", reporter_phone="13800000003")
    assert response.status_code == 429
    html = response.content.decode()
    assert 'id="rate-limited"' in html
    assert "一小时" in html
    assert value_of(html, "title") == "第三次"
    assert value_of(html, "reporter_phone") == "13800000003"
    assert Case.objects.count() == 2
    # Another address is not affected.
    response, _data = submit(Client(), ip="198.51.100.2")
    assert response.status_code == 303


def test_too_many_requests_with_one_phone_in_a_day_get_a_429(policy: PortalPolicy) -> None:
    policy.submissions_per_phone_per_day = 1
    policy.save()
    response, _data = submit(Client(), ip="198.51.100.1", reporter_phone="139 1234 5678")
    assert response.status_code == 303
    response, _data = submit(Client(), ip="198.51.100.9", reporter_phone="13912345678")
    assert response.status_code == 429
    assert "今天" in response.content.decode()
    assert Case.objects.count() == 1


def test_typed_text_is_escaped_everywhere(policy: PortalPolicy, catalog: Catalog) -> None:
    script = "<script>alert('x')</script>"
    client = Client()
    response, _data = submit(client, title=script, description=script, address=script)
    secret = secret_from(response)
    for url in (f"/track/{secret}/receipt/", f"/track/{secret}/", "/report/similar/?lon=112.91&lat=28.11"):
        html = client.get(url).content.decode()
        assert script not in html, url
    assert "&lt;script&gt;" in client.get(f"/track/{secret}/").content.decode()
    assert "&lt;script&gt;" in client.get("/report/similar/?lon=112.91&lat=28.11").content.decode()
    # And on the failed form, shown again.
    response, _data = submit(client, title=script, description="")
    assert script not in response.content.decode()


def test_the_category_list_is_the_active_catalogue(policy: PortalPolicy, catalog: Catalog) -> None:
    html = Client().get("/report/").content.decode()
    for category in Category.objects.filter(is_active=True, depth__gte=2):
        assert f'value="{category.pk}"' in html
    # 城乡建设 has children: it is a group label, not an option; flat first-level categories are options.
    top = Category.objects.get(code="01")
    assert f'value="{top.pk}"' not in html
    assert f'value="{catalog.consult.pk}"' in html


def test_the_quick_select_escapes_and_marks_the_choice() -> None:
    from civicgrid.core.widgets import QuickSelect

    widget = QuickSelect(choices=[("", "—"), ('<a href="x">', [("1", "<b>一</b>"), ("2", '"二"')])])
    html = widget.render("category", "2", {"id": "id_category", "aria-invalid": "true"})
    assert html.startswith('<select aria-invalid="true" id="id_category" name="category">')
    assert '<optgroup label="&lt;a href=&quot;x&quot;&gt;">' in html
    assert '<option value="1">&lt;b&gt;一&lt;/b&gt;</option>' in html
    assert '<option value="2" selected>&quot;二&quot;</option>' in html
    assert "<b>" not in html


def test_the_worker_prunes_log_entries_no_limit_counts(db: None) -> None:
    from datetime import timedelta

    from civicgrid.core.worker import registered_jobs
    from civicgrid.lib import clock
    from civicgrid.portal.actions import do_prune_submission_log

    now = clock.now()
    for age in (timedelta(hours=1), timedelta(hours=47), timedelta(days=3)):
        SubmissionLog.objects.create(
            at=now - age, kind=SubmissionKind.REPORT, ip_digest="x", phone_digest="y"
        )
    assert "portal.prune" in registered_jobs()
    assert do_prune_submission_log(actor=None) == 1  # the phone limit counts a day back: two days are kept
    assert SubmissionLog.objects.count() == 2
