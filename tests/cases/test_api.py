"""The cases JSON API (/api/v1/cases…): intake with idempotent retries, the error shape, a whole lifecycle
by the right personas, conflicts, scoping (404 outside, 403 without the capability), token auth, the list
filters, every action route, and the OpenAPI document and docs page."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from civicgrid.accounts.models import ApiToken
from civicgrid.accounts.tokens import do_issue_api_token, do_revoke_api_token
from civicgrid.cases import actions as a
from civicgrid.cases.models import Case, CaseAssignment
from civicgrid.cases.workflow import Action, Status
from civicgrid.core.models import PersonalDataAccess
from civicgrid.lib import clock
from tests.cases.helpers import BJT_POINT, YH_POINT, Catalog, assist_of, build_catalog, new_case, reach
from tests.world import World

ClientFor = Callable[[str], Client]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# The smallest valid PNG header the intake accepts (the content type is recognised by its first bytes).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def cat(world: World) -> Catalog:
    return build_catalog()


def post(client: Client, url: str, body: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **extra)


def intake(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "hotline",
        "nature": "complaint",
        "title": "路面塌陷",
        "description": "八角亭路口路面塌陷，请尽快处理。",
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
        "lon": BJT_POINT[0],
        "lat": BJT_POINT[1],
    }
    body.update(fields)
    return body


def act(client: Client, number: str, action: str, body: dict[str, Any] | None = None, **extra: Any) -> Any:
    return post(client, f"/api/v1/cases/{number}/actions/{action}", body, **extra)


def fields_of(response: Any) -> dict[str | None, str]:
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


# --- Intake -----------------------------------------------------------------------------------------------


def test_create_then_idempotent_retry(world: World, cat: Catalog, client_for: ClientFor) -> None:
    client = client_for("tx_hotline")
    first = post(client, "/api/v1/cases", intake(category="010101"), HTTP_IDEMPOTENCY_KEY="app-42")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "received"
    assert data["category"] == {"code": "010101", "name": "道路破损"}
    assert data["origin"]["code"] == "430103002001"
    assert data["grid_cell"] == "430103002001001"
    assert data["masked_reporter_phone"] == "138****5678"
    assert "13812345678" not in first.content.decode()
    assert "register" in data["allowed_actions"]
    full = client.get(data["url"]).json()
    assert [e["code"] for e in full["events"]] == ["create"]
    assert full["events"][0]["actor"] == "tx_hotline"

    retry = post(client, "/api/v1/cases", intake(category="010101"), HTTP_IDEMPOTENCY_KEY="app-42")
    assert retry.status_code == 200
    assert retry.json()["number"] == data["number"]
    # The key may also come in the body.
    again = post(client, "/api/v1/cases", intake(intake_key="app-42"))
    assert (again.status_code, again.json()["number"]) == (200, data["number"])
    assert Case.objects.count() == 1


def test_create_with_photo_and_jurisdiction(world: World, cat: Catalog, client_for: ClientFor) -> None:
    photo = {"name": "hole.png", "content_base64": base64.b64encode(PNG).decode()}
    response = post(
        client_for("tx_hotline"),
        "/api/v1/cases",
        intake(lon=None, lat=None, jurisdiction="430103004001", photos=[photo]),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["origin"]["code"] == "430103004001"
    assert data["grid_cell"] is None
    full = client_for("tx_hotline").get(data["url"]).json()
    assert [(p["stage"], p["content_type"], p["size"]) for p in full["photos"]] == [
        ("intake", "image/png", len(PNG))
    ]


def test_errors_are_json_with_the_field_in_chinese(world: World, cat: Catalog, client_for: ClientFor) -> None:
    client = client_for("tx_hotline")
    # The request's own schema (pydantic): a missing field and an unknown choice.
    body = intake(channel="pigeon")
    del body["nature"]
    response = post(client, "/api/v1/cases", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert fields_of(response) == {
        "nature": "这个字段是必填项。",
        "channel": "选择一个有效的选项： 该选择不在可用的选项中。",
    }
    # The action's own validation, one entry per field.
    response = post(client, "/api/v1/cases", intake(title=" ", reporter_phone="12"))
    assert response.status_code == 422
    errors = fields_of(response)
    assert errors["title"] == "这个字段是必填项。"
    assert set(errors) == {"title", "reporter_phone"}
    # English when the client asks for it.
    response = post(client, "/api/v1/cases", intake(title=""), HTTP_ACCEPT_LANGUAGE="en")
    assert fields_of(response) == {"title": "This field is required."}
    # Referenced objects that do not exist, and photos that are not images.
    response = post(client, "/api/v1/cases", intake(category="nope", jurisdiction="430111001001"))
    assert set(fields_of(response)) == {"category"}
    response = post(client, "/api/v1/cases", intake(lon=None, lat=None, jurisdiction="430111001001"))
    assert set(fields_of(response)) == {"jurisdiction"}  # 梓园 is outside 天心区: not "found"
    photos = [{"name": "a.png", "content_base64": "%%%"}]
    assert set(fields_of(post(client, "/api/v1/cases", intake(photos=photos)))) == {"photos.0.content_base64"}
    photos = [{"name": "a.txt", "content_base64": base64.b64encode(b"hello").decode()}]
    assert set(fields_of(post(client, "/api/v1/cases", intake(photos=photos)))) == {"photos"}
    # A nested schema error carries its dotted path; a body that is not JSON is a 400 in the same shape.
    response = post(client, "/api/v1/cases", intake(photos=[{"name": "a.png"}]))
    assert fields_of(response) == {"photos.0.content_base64": "这个字段是必填项。"}
    response = client.post("/api/v1/cases", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert Case.objects.count() == 0


def test_a_body_over_the_upload_limit_is_413(world: World, cat: Catalog, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    _token, secret = do_issue_api_token(world.u("tx_hotline"), name="app", actor=None)
    photo = {"name": "big.png", "content_base64": base64.b64encode(PNG * 400).decode()}
    response = post(Client(), "/api/v1/cases", intake(photos=[photo]), headers=bearer(secret))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_reporting_outside_ones_area_is_403(world: World, cat: Catalog, client_for: ClientFor) -> None:
    response = post(client_for("tx_hotline"), "/api/v1/cases", intake(lon=YH_POINT[0], lat=YH_POINT[1]))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


# --- A whole lifecycle --------------------------------------------------------------------------------------


def test_lifecycle_through_the_api(world: World, cat: Catalog, client_for: ClientFor) -> None:
    hotline, dispatcher = client_for("tx_hotline"), client_for("tx_dispatcher")
    handler, grid = client_for("tx_cg_handler"), client_for("bjt_grid")

    number = post(hotline, "/api/v1/cases", intake()).json()["number"]
    # The handler's unit has not been given the case yet: it does not exist for them.
    assert handler.get(f"/api/v1/cases/{number}").status_code == 404

    registered = act(hotline, number, "register", {"category": "010101", "version": 1})
    assert registered.status_code == 200, registered.content
    assert registered.json()["status"] == "registered"
    assert "dispatch" not in registered.json()["allowed_actions"]  # a hotline operator does not dispatch
    assert "dispatch" in dispatcher.get(f"/api/v1/cases/{number}").json()["allowed_actions"]

    dispatched = act(dispatcher, number, "dispatch", {"lead_unit": "430103-cg"})
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.json()["lead_unit"] == {"code": "430103-cg", "name": "天心区城市管理和综合执法局"}

    seen = handler.get(f"/api/v1/cases/{number}").json()
    assert seen["status"] == "dispatched"
    assert seen["allowed_actions"] == ["accept", "request_return", "escalate"]
    accepted = act(handler, number, "accept", {"version": seen["version"]})
    assert accepted.json()["status"] == "handling"
    clocks = {k["stage"]: k for k in accepted.json()["clocks"]}
    assert clocks["handle"]["state"] == "running"
    assert clocks["handle"]["unit"] == "work_day"
    assert 0 < clocks["handle"]["remaining"] <= 5
    assert clocks["accept"]["state"] == "stopped"
    assert clocks["accept"]["remaining"] is None

    photo = {"name": "fixed.png", "content_base64": base64.b64encode(PNG).decode()}
    replied = act(handler, number, "reply", {"reply": "已修复路面", "photos": [photo]})
    assert replied.status_code == 200, replied.content
    assert replied.json()["status"] == "replied"
    assert [p["stage"] for p in replied.json()["photos"]] == ["reply"]

    assert "verify" in grid.get(f"/api/v1/cases/{number}").json()["allowed_actions"]
    verified = act(grid, number, "verify", {"passed": True, "note": "现场已修复"})
    assert verified.json()["status"] == "resolved"

    revisited = act(
        hotline,
        number,
        "revisit",
        {"channel": "phone", "satisfaction": "satisfied", "resolution": "resolved"},
    )
    assert revisited.status_code == 200, revisited.content
    data = revisited.json()
    assert data["status"] == "revisited"
    assert [(e["code"], e["actor"]) for e in data["events"]] == [
        ("create", "tx_hotline"),
        ("register", "tx_hotline"),
        ("dispatch", "tx_dispatcher"),
        ("accept", "tx_cg_handler"),
        ("reply", "tx_cg_handler"),
        ("verify", "bjt_grid"),
        ("revisit", "tx_hotline"),
    ]
    assert [e["seq"] for e in data["events"]] == list(range(1, 8))
    with translation.override("zh-hans"):
        assert data["events"][2]["label"] == str(Action.DISPATCH.label)
    assert (data["events"][2]["from_status"], data["events"][2]["to_status"]) == ("registered", "dispatched")
    assert [(r["satisfaction"], r["by"]) for r in data["revisits"]] == [("satisfied", "tx_hotline")]
    assert [(x["unit"]["code"], x["status"]) for x in data["assignments"]] == [("430103-cg", "replied")]


def test_timeline_shows_records_of_side_actions(world: World, cat: Catalog, client_for: ClientFor) -> None:
    case = reach(Status.HANDLING, world, cat)
    a.do_request_extension(case, amount=2, reason="需要协调", time_unit="work_day", actor=None)
    a.do_supervise(case, opinion="请加快办理", actor=None)
    data = client_for("tx_supervisor").get(f"/api/v1/cases/{case.number}").json()
    assert [(x["status"], x["amount"], x["unit"]["code"]) for x in data["extensions"]] == [
        ("pending", "2.00", "430103-cg")
    ]
    assert [(o["kind"], o["opinion"], o["to_unit"]["code"]) for o in data["orders"]] == [
        ("supervise", "请加快办理", "430103-cg")
    ]
    assert data["is_supervised"] is True
    assert "decide_extension" in data["allowed_actions"]
    assert "suspend" in data["allowed_actions"]
    assert "accept" not in data["allowed_actions"]


# --- Conflicts, scope, capability ------------------------------------------------------------------------


def test_forbidden_transition_is_409(world: World, cat: Catalog, client_for: ClientFor) -> None:
    case = new_case(world)
    response = act(client_for("tx_dispatcher"), case.number, "dispatch", {"lead_unit": "430103-cg"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert body["errors"][0]["field"] is None
    assert Case.objects.get(pk=case.pk).status == Status.RECEIVED


def test_stale_version_is_409_conflict(world: World, cat: Catalog, client_for: ClientFor) -> None:
    client = client_for("tx_hotline")
    case = new_case(world)
    read = client.get(f"/api/v1/cases/{case.number}").json()["version"]
    assert act(client, case.number, "request_confirmation", {"version": read}).status_code == 200
    stale = act(client, case.number, "register", {"category": "010101", "version": read})
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert list(fields_of(stale)) == ["version"]
    assert Case.objects.get(pk=case.pk).status == Status.CONFIRMING
    # Without a version the caller accepts whatever is current.
    assert act(client, case.number, "register", {"category": "010101"}).status_code == 200


@pytest.mark.parametrize("username", ["yh_dispatcher", "yh_admin", "yh_cg_handler", "nobody"])
def test_case_outside_jurisdiction_is_404(
    world: World, cat: Catalog, client_for: ClientFor, username: str
) -> None:
    case = new_case(world)
    client = client_for(username)
    assert client.get(f"/api/v1/cases/{case.number}").status_code == 404
    response = act(client, case.number, "register", {"category": "010101"})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"field": None, "reason": response.json()["errors"][0]["reason"]}],
        "code": "not_found",
    }
    assert post(client, f"/api/v1/cases/{case.number}/reveal-phone").status_code == 404
    assert client.get("/api/v1/cases").json()["items"] == []
    assert Case.objects.get(pk=case.pk).status == Status.RECEIVED


def test_master_case_is_looked_up_in_scope(world: World, cat: Catalog, client_for: ClientFor) -> None:
    case = new_case(world)
    outside = new_case(world, actor="yh_dispatcher", point=YH_POINT)
    response = act(client_for("tx_hotline"), case.number, "merge", {"master": outside.number})
    assert response.status_code == 422
    assert set(fields_of(response)) == {"master"}
    assert Case.objects.get(pk=case.pk).status == Status.RECEIVED


def test_unit_outside_scope_is_a_field_error(world: World, cat: Catalog, client_for: ClientFor) -> None:
    case = reach(Status.REGISTERED, world, cat)
    response = act(client_for("tx_dispatcher"), case.number, "dispatch", {"lead_unit": "430111-cg"})
    assert response.status_code == 422
    assert set(fields_of(response)) == {"lead_unit"}
    response = act(
        client_for("tx_dispatcher"),
        case.number,
        "dispatch",
        {"lead_unit": "430103-cg", "assist_units": ["x"]},
    )
    assert set(fields_of(response)) == {"assist_units"}


def test_viewer_without_the_capability_is_403(world: World, cat: Catalog, client_for: ClientFor) -> None:
    case = new_case(world)
    building = client_for("bjt_building")  # sees cases in 八角亭, may only report them
    detail = building.get(f"/api/v1/cases/{case.number}")
    assert detail.status_code == 200
    assert detail.json()["allowed_actions"] == []
    response = act(building, case.number, "register", {"category": "010101"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert Case.objects.get(pk=case.pk).status == Status.RECEIVED


def test_reveal_phone_is_logged_and_refused_without_capability(
    world: World, cat: Catalog, client_for: ClientFor
) -> None:
    case = new_case(world)
    response = post(client_for("bjt_grid"), f"/api/v1/cases/{case.number}/reveal-phone", {"purpose": "回访"})
    assert response.status_code == 403
    assert not PersonalDataAccess.objects.exists()
    response = post(
        client_for("tx_dispatcher"), f"/api/v1/cases/{case.number}/reveal-phone", {"purpose": "回访"}
    )
    assert response.status_code == 200
    assert response.json() == {"reporter_phone": "13812345678"}
    log = PersonalDataAccess.objects.get()
    assert (log.actor, log.subject_id, log.field, log.purpose) == (
        world.u("tx_dispatcher"),
        str(case.pk),
        "reporter_phone",
        "回访",
    )


def test_anonymous_report_hides_the_resident(world: World, cat: Catalog, client_for: ClientFor) -> None:
    number = post(client_for("tx_hotline"), "/api/v1/cases", intake(is_anonymous=True)).json()["number"]
    data = client_for("tx_supervisor").get(f"/api/v1/cases/{number}").json()
    assert data["reporter_name"] == ""
    assert data["masked_reporter_phone"] == "138****5678"
    # A supervisor may call residents back, but not an anonymous one (permissions.can_view_reporter_phone).
    assert post(client_for("tx_supervisor"), f"/api/v1/cases/{number}/reveal-phone").status_code == 403


# --- Authentication ---------------------------------------------------------------------------------------


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_token_auth(world: World, cat: Catalog) -> None:
    user = world.u("tx_dispatcher")
    token, secret = do_issue_api_token(user, name="dispatch app", actor=None)
    assert secret.startswith("cg_")
    assert len(secret) > 40
    assert token.prefix == secret[:8]
    assert secret not in {token.key_digest, token.prefix}
    case = reach(Status.REGISTERED, world, cat)

    # No session, no CSRF token: the bearer token alone authenticates, also for unsafe methods.
    client = Client(enforce_csrf_checks=True)
    assert client.get("/api/v1/cases").status_code == 401
    listed = client.get("/api/v1/cases", headers=bearer(secret))
    assert listed.status_code == 200
    assert [c["number"] for c in listed.json()["items"]] == [case.number]
    response = act(client, case.number, "dispatch", {"lead_unit": "430103-cg"}, headers=bearer(secret))
    assert response.status_code == 200, response.content
    assert response.json()["events"][-1]["actor"] == "tx_dispatcher"

    # Revoked, unknown, expired tokens and deactivated users are all 401 — never a fall-back.
    do_revoke_api_token(token, actor=user)
    response = client.get("/api/v1/cases", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/cases", headers=bearer("cg_not-a-token")).status_code == 401
    now = clock.now()
    _token, expiring = do_issue_api_token(user, name="short", expires_at=now + timedelta(hours=1), actor=None)
    assert client.get("/api/v1/cases", headers=bearer(expiring)).status_code == 200
    with clock.frozen(now + timedelta(hours=2)):
        assert client.get("/api/v1/cases", headers=bearer(expiring)).status_code == 401
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/api/v1/cases", headers=bearer(expiring)).status_code == 401


def test_a_bad_token_does_not_fall_back_to_the_session(world: World, client_for: ClientFor) -> None:
    client = client_for("tx_dispatcher")
    assert client.get("/api/v1/cases").status_code == 200
    assert client.get("/api/v1/cases", headers=bearer("cg_stale")).status_code == 401


def test_token_last_use_is_written_at_most_once_a_minute(world: World) -> None:
    token, secret = do_issue_api_token(world.u("tx_leader"), name="wall screen", actor=None)
    start = datetime(2026, 5, 6, 10, 0, tzinfo=SHANGHAI)
    client = Client()

    def used_at(at: datetime) -> datetime | None:
        with clock.frozen(at):
            assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
        return ApiToken.objects.get(pk=token.pk).last_used_at

    assert used_at(start) == start
    assert used_at(start + timedelta(seconds=30)) == start
    with clock.frozen(start + timedelta(seconds=40)), CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/cases", headers=bearer(secret))
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert used_at(start + timedelta(minutes=2)) == start + timedelta(minutes=2)


def test_issue_and_revoke_need_the_right_actor(world: World) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    target = world.u("tx_cg_handler")
    token, _secret = do_issue_api_token(target, name="own", actor=target)  # a user for themselves
    do_issue_api_token(target, name="by admin", actor=world.u("tx_admin"))
    with pytest.raises(PermissionDenied):
        do_issue_api_token(target, name="x", actor=world.u("yh_admin"))
    with pytest.raises(PermissionDenied):
        do_revoke_api_token(token, actor=world.u("tx_dispatcher"))
    with pytest.raises(ValidationError):
        do_issue_api_token(target, name=" ", actor=None)
    with pytest.raises(ValidationError):
        do_issue_api_token(target, name="old", expires_at=clock.now() - timedelta(days=1), actor=None)


def test_issue_api_token_command(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("issue_api_token", "tx_leader", "--name", "大屏", "--days", "30")
    secret = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=world.u("tx_leader"))
    assert token.name == "大屏"
    assert token.expires_at is not None
    assert Client().get("/api/v1/cases", headers=bearer(secret)).status_code == 200


def test_session_needs_csrf_for_unsafe_methods(world: World, cat: Catalog) -> None:
    case = new_case(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.u("tx_hotline"), backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(f"/api/v1/cases/{case.number}").status_code == 200
    response = act(client, case.number, "request_confirmation")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert Case.objects.get(pk=case.pk).status == Status.RECEIVED
    # With the token from the cookie, as the docs page and htmx send it.
    client.get("/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = act(client, case.number, "request_confirmation", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content
    # Anonymous requests are a plain 401, not a CSRF failure.
    assert act(Client(enforce_csrf_checks=True), case.number, "request_confirmation").status_code == 401


# --- The list -------------------------------------------------------------------------------------------


def numbers(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/cases?{query}")
    assert response.status_code == 200, response.content
    return [c["number"] for c in response.json()["items"]]


def test_list_filters(world: World, cat: Catalog, client_for: ClientFor) -> None:
    day1 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
    with clock.frozen(day1):
        road = new_case(world, channel="web")
        a.do_register(road, category=cat.road, actor=None)
    with clock.frozen(day1 + timedelta(days=1)):
        tianjian = new_case(world, lon=None, lat=None, jurisdiction=world.j("430103004001"), title="噪音扰民")
    with clock.frozen(day1 + timedelta(days=2)):
        illegal = new_case(world, title="违章搭建")
        a.do_register(illegal, category=cat.illegal, actor=None)
        a.do_dispatch(illegal, lead=world.units["430103-cg"], actor=None)
        voided = new_case(world, title="重复来电")
        a.do_void(voided, reason="重复", actor=None)
        yh = new_case(world, actor="yh_dispatcher", point=YH_POINT)
    client = client_for("tx_dispatcher")

    newest_first = [voided.number, illegal.number, tianjian.number, road.number]
    assert numbers(client) == newest_first  # yh is outside 天心区
    assert numbers(client_for("yh_dispatcher")) == [yh.number]
    assert numbers(client, "status=registered") == [road.number]
    assert numbers(client, "status=registered&status=dispatched") == [illegal.number, road.number]
    assert numbers(client, "group=dropped") == [voided.number]
    assert numbers(client, "group=open") == [illegal.number, tianjian.number, road.number]
    assert numbers(client, "jurisdiction=430103004") == [tianjian.number]
    assert numbers(client, "jurisdiction=430103002001") == [voided.number, illegal.number, road.number]
    assert numbers(client, "unit=430103-cg") == [illegal.number]
    assert numbers(client, "grid=430103002001001") == [voided.number, illegal.number, road.number]
    assert numbers(client, "category=01") == [road.number]  # includes the subcategory 010101
    assert numbers(client, "category=02") == [illegal.number]
    assert numbers(client, "channel=web") == [road.number]
    assert numbers(client, "received_from=2026-03-03&received_to=2026-03-03") == [tianjian.number]
    assert numbers(client, "received_to=2026-03-02") == [road.number]
    assert numbers(client, "q=噪音") == [tianjian.number]
    assert numbers(client, f"q={road.number[-6:]}") == [road.number]

    # Overdue: open cases past a deadline. At 11:00 on day 3 only the two-hour limits from day 1 and 2 ran out.
    with clock.frozen(day1 + timedelta(days=2, hours=2)):
        assert numbers(client, "overdue=true") == [tianjian.number, road.number]
        assert numbers(client, "overdue=false") == [voided.number, illegal.number]
    with clock.frozen(day1 + timedelta(days=60)):
        assert numbers(client, "overdue=true") == [illegal.number, tianjian.number, road.number]

    # Paging, and the count that can be skipped.
    page = client.get("/api/v1/cases?limit=3").json()
    assert (page["count"], len(page["items"]), page["next_offset"]) == (4, 3, 3)
    page = client.get("/api/v1/cases?limit=3&offset=3&count=false").json()
    assert (page["count"], [c["number"] for c in page["items"]], page["next_offset"]) == (
        None,
        [road.number],
        None,
    )
    item = client.get("/api/v1/cases?unit=430103-cg").json()["items"][0]
    assert item["lead_unit"]["code"] == "430103-cg"
    assert item["status_label"]
    assert "reporter_phone" not in json.dumps(item)


def test_list_rejects_bad_filters(world: World, cat: Catalog, client_for: ClientFor) -> None:
    client = client_for("tx_dispatcher")
    for query, field in [
        ("unit=430111-cg", "unit"),  # outside: reported like a code that does not exist
        ("jurisdiction=430111", "jurisdiction"),
        ("grid=430111001001001", "grid"),
        ("category=99", "category"),
        ("status=bogus", "status.0"),
        ("limit=500", "limit"),
        ("received_from=yesterday", "received_from"),
    ]:
        response = client.get(f"/api/v1/cases?{query}")
        assert response.status_code == 422, query
        assert field in fields_of(response), (query, response.json())


def test_list_query_count_does_not_grow_with_the_page(
    world: World, cat: Catalog, client_for: ClientFor
) -> None:
    client = client_for("tx_dispatcher")
    new_case(world)
    with CaptureQueriesContext(connection) as one:
        assert len(numbers(client)) == 1
    for _i in range(5):
        case = new_case(world)
        a.do_register(case, category=cat.road, actor=None)
    with CaptureQueriesContext(connection) as six:
        assert len(numbers(client)) == 6
    assert len(six.captured_queries) == len(one.captured_queries)


# --- Every action route -------------------------------------------------------------------------------------


def _with_pending_extension(world: World, cat: Catalog) -> tuple[Case, dict[str, Any]]:
    case = reach(Status.HANDLING, world, cat)
    request = a.do_request_extension(case, amount=2, reason="需协调", time_unit="work_day", actor=None)
    case.refresh_from_db()
    return case, {"request": request.pk, "approve": True, "amount": "1"}


def _assist_accepted(world: World, cat: Catalog) -> tuple[Case, dict[str, Any]]:
    case = reach(Status.HANDLING, world, cat)
    a.do_assist_accept(case, assignment=assist_of(case), actor=None)
    return case, {"assignment": assist_of(case).pk, "reply": "已配合"}


def _assists_done(world: World, cat: Catalog) -> tuple[Case, dict[str, Any]]:
    case, _body = _assist_accepted(world, cat)
    a.do_assist_reply(case, assignment=assist_of(case), reply="已配合", actor=None)
    return case, {"reply": "已办结"}


def _merge(world: World, cat: Catalog) -> tuple[Case, dict[str, Any]]:
    master = new_case(world, actor=None)
    return reach(Status.RECEIVED, world, cat), {"master": master.number}


def _in(status: Status, body: dict[str, Any] | Callable[[Case], dict[str, Any]]) -> Any:
    def make(world: World, cat: Catalog) -> tuple[Case, dict[str, Any]]:
        case = reach(status, world, cat)
        return case, body(case) if callable(body) else body

    return make


# action → (a case where it applies and the body, the status afterwards)
ROUTES: dict[Action, tuple[Callable[[World, Catalog], tuple[Case, dict[str, Any]]], Status]] = {
    Action.ANSWER_DIRECTLY: (_in(Status.RECEIVED, {"answer": "请携带身份证办理"}), Status.DIRECT_ANSWERED),
    Action.REQUEST_CONFIRMATION: (_in(Status.RECEIVED, {"note": "请网格员核实"}), Status.CONFIRMING),
    Action.REGISTER: (_in(Status.RECEIVED, {"category": "010101", "urgency": "urgent"}), Status.REGISTERED),
    Action.VOID: (_in(Status.RECEIVED, {"reason": "重复来电"}), Status.VOID),
    Action.MERGE: (_merge, Status.MERGED),
    Action.SPLIT: (
        _in(
            Status.REGISTERED,
            {
                "parts": [
                    {"title": "路面", "description": "路面塌陷", "category": "010101"},
                    {"title": "违建", "description": "违章搭建", "category": "02", "urgency": "urgent"},
                ]
            },
        ),
        Status.SPLIT,
    ),
    Action.DISPATCH: (
        _in(Status.REGISTERED, {"lead_unit": "430103-cg", "assist_units": ["430103-zj"], "note": "请处理"}),
        Status.DISPATCHED,
    ),
    Action.ACCEPT: (_in(Status.DISPATCHED, {}), Status.HANDLING),
    Action.REQUEST_RETURN: (
        _in(Status.DISPATCHED, {"reason": "不属本单位职责", "basis": "第3条"}),
        Status.RETURN_REQUESTED,
    ),
    Action.APPROVE_RETURN: (_in(Status.RETURN_REQUESTED, {}), Status.REGISTERED),
    Action.REJECT_RETURN: (_in(Status.RETURN_REQUESTED, {"note": "属你单位职责"}), Status.DISPATCHED),
    Action.ASSIGN_DOWN: (
        _in(Status.REGISTERED, {"to": "430103002", "reason": "街道办理"}),
        Status.REGISTERED,
    ),
    Action.ESCALATE: (_in(Status.REGISTERED, {"reason": "超出权限"}), Status.REGISTERED),
    Action.REQUEST_EXTENSION: (
        _in(Status.HANDLING, {"amount": "2", "reason": "需要协调", "time_unit": "work_day"}),
        Status.HANDLING,
    ),
    Action.DECIDE_EXTENSION: (_with_pending_extension, Status.HANDLING),
    Action.AWAIT_RESIDENT: (_in(Status.HANDLING, {"note": "等待补充材料"}), Status.WAITING),
    Action.RESIDENT_RESPONDED: (_in(Status.WAITING, {"note": "材料已补充"}), Status.HANDLING),
    Action.SUSPEND: (_in(Status.HANDLING, {"reason": "等待法院裁定"}), Status.SUSPENDED),
    Action.RESUME: (_in(Status.SUSPENDED, {}), Status.HANDLING),
    Action.COMPLETE_MILESTONE: (_in(Status.HANDLING, {"seq": 0, "note": "已停工"}), Status.HANDLING),
    Action.ASSIST_ACCEPT: (_in(Status.HANDLING, lambda c: {"assignment": assist_of(c).pk}), Status.HANDLING),
    Action.ASSIST_RETURN: (
        _in(Status.HANDLING, lambda c: {"assignment": assist_of(c).pk, "reason": "非协办职责"}),
        Status.HANDLING,
    ),
    Action.ASSIST_REPLY: (_assist_accepted, Status.HANDLING),
    Action.SUPERVISE: (
        _in(Status.HANDLING, {"opinion": "请加快办理", "reply_due_at": "2030-01-01T10:00:00+08:00"}),
        Status.HANDLING,
    ),
    Action.URGE: (_in(Status.DISPATCHED, {"note": "请尽快签收"}), Status.DISPATCHED),
    Action.REPLY: (_assists_done, Status.REPLIED),
    Action.VERIFY: (_in(Status.REPLIED, {"passed": False, "note": "未修复"}), Status.HANDLING),
    Action.REVISIT: (
        _in(Status.RESOLVED, {"channel": "phone", "satisfaction": "satisfied", "resolution": "resolved"}),
        Status.REVISITED,
    ),
    Action.REOPEN: (_in(Status.REVISITED, {"reason": "群众不满意"}), Status.HANDLING),
    Action.FORCE_CLOSE: (_in(Status.HANDLING, {"reason": "诉求不合理，已解释"}), Status.RESOLVED),
    Action.WITHDRAW: (_in(Status.RECEIVED, {"reason": "群众撤回"}), Status.WITHDRAWN),
    Action.ARCHIVE: (_in(Status.REVISITED, {}), Status.ARCHIVED),
}


def test_every_action_has_a_route() -> None:
    assert set(ROUTES) == set(Action) - {Action.CREATE}


@pytest.mark.parametrize("action", list(ROUTES), ids=str)
def test_action_route(world: World, cat: Catalog, client_for: ClientFor, action: Action) -> None:
    make, after = ROUTES[action]
    case, body = make(world, cat)
    case.refresh_from_db()
    response = act(client_for("root"), case.number, action.value, {**body, "version": case.version})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == after
    assert data["version"] > case.version
    assert str(action) in [e["code"] for e in data["events"] if e["seq"] > case.version]


def test_action_results_reach_the_records(world: World, cat: Catalog, client_for: ClientFor) -> None:
    root = client_for("root")
    case = reach(Status.REGISTERED, world, cat)
    data = act(root, case.number, "split", ROUTES[Action.SPLIT][0](world, cat)[1]).json()
    assert len(data["children"]) == 2
    child = root.get(f"/api/v1/cases/{data['children'][1]}").json()
    assert (child["parent"], child["category"]["code"], child["urgency"]) == (case.number, "02", "urgent")
    case = reach(Status.REGISTERED, world, cat)
    data = act(root, case.number, "escalate", {"reason": "超出权限"}).json()
    assert data["jurisdiction"]["code"] == "430100"
    assert [(h["from_jurisdiction"]["code"], h["to_jurisdiction"]["code"]) for h in data["hops"]] == [
        ("430103", "430100")
    ]
    case, body = _with_pending_extension(world, cat)
    data = act(root, case.number, "decide_extension", body).json()
    assert [(x["status"], x["approved_amount"]) for x in data["extensions"]] == [("approved", "1.00")]
    assert data["extension_count"] == 1
    other = reach(Status.HANDLING, world, cat)
    response = act(root, case.number, "decide_extension", {"request": 10**9, "approve": True})
    assert set(fields_of(response)) == {"request"}
    response = act(root, other.number, "assist_accept", {"assignment": assist_of(case).pk})
    assert set(fields_of(response)) == {"assignment"}  # another case's assignment
    assert CaseAssignment.objects.get(pk=assist_of(case).pk).status == "dispatched"


# --- The OpenAPI document and the docs page -----------------------------------------------------------------


def test_openapi_document_lists_the_case_routes(db: None) -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases"])
    assert "get" in paths["/api/v1/cases/{number}"]
    assert "post" in paths["/api/v1/cases/{number}/reveal-phone"]
    for action in ROUTES:
        operation = paths[f"/api/v1/cases/{{number}}/actions/{action.value}"]["post"]
        assert operation["operationId"] == f"case_action_{action.value}"
        assert {"200", "404", "409", "422"} <= set(operation["responses"])
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}
    assert response.json() == Client().get("/api/v1/openapi.json").json()


def test_docs_page_is_served_without_external_urls(db: None) -> None:
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/openapi.json" in html
    assert "swagger-ui-bundle.js" in html
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise call validator.swagger.io
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), html
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert Client().get(asset).status_code == 200, asset  # served by the site itself (whitenoise)
