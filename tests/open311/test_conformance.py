"""Conformance with GeoReport v2: every method in both formats, every error path, each answer checked by the
validators of tests/open311/schemas.py (JSON Schemas, the specification's XML structure) and the JSON and
XML answers of each call compared."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Model
from django.http import HttpResponse

from civicgrid.cases.actions import do_accept, do_dispatch, do_register, do_reply, do_void
from civicgrid.cases.models import Case, CaseClock, CaseEvent, Channel
from civicgrid.lib import clock
from civicgrid.notifications.models import Notification
from civicgrid.open311 import actions
from civicgrid.open311.models import ServiceRequest, ServiceSetting, ServiceType
from tests.open311 import schemas
from tests.open311.conftest import BJT_POINT, O311, YH_POINT, body

FORMATS = ("json", "xml")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Tuesday
COUNTED: tuple[type[Model], ...] = (Case, CaseEvent, CaseClock, ServiceRequest, Notification)


def row_counts() -> dict[str, int]:
    """The rows a POST writes (the case, its history, clocks, Open311 side and outbox)."""
    return {model.__name__: model._default_manager.count() for model in COUNTED}


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[datetime]:
    with clock.frozen(NOW) as at:
        yield at


def light(**overrides: Any) -> dict[str, Any]:
    """A valid street-light request at 八角亭 (None drops an argument)."""
    params: dict[str, Any] = {
        "service_code": "010102",
        "lat": str(BJT_POINT[1]),
        "long": str(BJT_POINT[0]),
        "description": "小区东门路灯不亮。已经三天了",
        "attribute[state]": "dark",
    }
    params.update(overrides)
    return params


def answer(o311: O311, path: str, kind: schemas.Kind, *, expect: int = 200, **params: Any) -> Any:
    """GET in both formats: the status, each answer validated, the two the same; the JSON data."""
    extended = params.get("extensions") == "true"
    found: dict[str, Any] = {}
    for fmt in FORMATS:
        response = o311.get(path, fmt, **params)
        assert response.status_code == expect, (fmt, response.status_code, response.content[:400])
        found[fmt] = schemas.check(response, fmt, kind, extensions=extended)
    schemas.same_answer(found["json"], found["xml"])
    return found["json"]


def fails(o311: O311, path: str, expect: int, **params: Any) -> list[str]:
    """A GET answered with the errors list in both formats; the descriptions."""
    return [e["description"] for e in answer(o311, path, "errors", expect=expect, **params)]


def post_fails(o311: O311, expect: int, **params: Any) -> list[str]:
    """A POST refused in both formats with nothing written; the descriptions."""
    before = row_counts()
    found: dict[str, Any] = {}
    for fmt in FORMATS:
        response = o311.post(fmt, **params)
        assert response.status_code == expect, (fmt, response.status_code, response.content[:400])
        found[fmt] = schemas.check(response, fmt, "errors")
    schemas.same_answer(found["json"], found["xml"])
    assert row_counts() == before
    return [e["description"] for e in found["json"]]


def posted(o311: O311, fmt: str = "json", **params: Any) -> dict[str, Any]:
    """A POST taken in: the validated answer's one item (JSON-shaped; XML values as text)."""
    before = row_counts()
    response = o311.post(fmt, **params)
    items = schemas.check(response, fmt, "post")
    after = row_counts()
    assert after["Case"] == before["Case"] + 1
    assert after["ServiceRequest"] == before["ServiceRequest"] + 1
    assert len(items) == 1
    return dict(items[0])


def names(descriptions: list[str]) -> set[str]:
    """The arguments the errors name ("lat: …" → "lat")."""
    return {d.split(":", 1)[0] for d in descriptions}


# --- Discovery -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/open311/discovery", "/open311/v2/discovery"])
def test_discovery_in_both_formats(o311: O311, prefix: str) -> None:
    found = {}
    for fmt in FORMATS:
        response = o311.client.get(f"{prefix}.{fmt}")
        found[fmt] = schemas.check(response, fmt, "discovery")
    schemas.same_answer(found["json"], found["xml"])
    [endpoint] = found["json"]["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    # The advertised URL is the root the methods hang under.
    services = endpoint["url"].removeprefix("http://testserver") + "/services.xml"
    schemas.check(o311.client.get(services, {"jurisdiction_id": "430103"}), "xml", "services")


# --- Services ----------------------------------------------------------------------------------------------


def test_services_are_the_leaf_categories(o311: O311) -> None:
    services = answer(o311, "services", "services")
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"010101", "010102", "02", "03", "04"}  # groups (01, 0101) are not services
    assert by_code["010102"] == {
        "service_code": "010102",
        "service_name": "路灯",
        "description": "城乡建设 / 市政管理 / 路灯",
        "metadata": True,  # it has extra questions
        "type": "realtime",
        "keywords": None,
        "group": "城乡建设",
    }
    assert by_code["010101"]["metadata"] is False


def test_service_settings_show_in_the_list(o311: O311) -> None:
    road = o311.catalog.road
    actions.do_save_service_setting(
        ServiceSetting(
            category=road, service_type=ServiceType.BATCH, keywords="坑洼,路面", description="路面坑洼"
        ),
        actor=None,
    )
    actions.do_save_service_setting(ServiceSetting(category=o311.catalog.major, is_listed=False), actor=None)
    by_code = {s["service_code"]: s for s in answer(o311, "services", "services")}
    assert "03" not in by_code
    assert by_code["010101"]["type"] == "batch"
    assert by_code["010101"]["keywords"] == "坑洼,路面"
    assert by_code["010101"]["description"] == "路面坑洼"


def test_service_definition_with_attributes(o311: O311) -> None:
    definition = answer(o311, "services/010102", "service_definition")
    assert definition["service_code"] == "010102"
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == ["pole", "state", "hazards", "count", "seen_at", "notes"]
    assert [a["order"] for a in attributes] == [1, 2, 3, 4, 5, 6]
    assert [a["datatype"] for a in attributes] == [
        "string",
        "singlevaluelist",
        "multivaluelist",
        "number",
        "datetime",
        "text",
    ]
    state = attributes[1]
    assert (state["required"], state["variable"]) == (True, True)
    assert state["values"] == [{"key": "dark", "name": "不亮"}, {"key": "flicker", "name": "闪烁"}]
    assert [v["key"] for v in attributes[2]["values"]] == ["traffic", "wire", "fall"]


def test_service_definition_without_attributes(o311: O311) -> None:
    assert answer(o311, "services/010101", "service_definition") == {
        "service_code": "010101",
        "attributes": [],
    }


@pytest.mark.parametrize("code", ["nope", "01", "0101", "99"])
def test_an_unknown_service_code_is_404(o311: O311, code: str) -> None:
    assert names(fails(o311, f"services/{code}", 404)) == {"service_code"}


# --- POST a request ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_realtime_service_returns_the_request_id(o311: O311, fmt: str) -> None:
    item = posted(o311, fmt, **light(account_id="acct-7"))
    assert set(item) == {"service_request_id", "service_notice", "account_id"}
    assert item["account_id"] == "acct-7"
    assert item["service_notice"] is None
    case = Case.objects.get(number=item["service_request_id"])
    assert case.channel == Channel.OPEN311
    record = ServiceRequest.objects.get(case=case)
    assert record.account_id == "acct-7"
    assert record.attributes == {"state": "dark"}
    [found] = answer(o311, f"requests/{case.number}", "requests")
    assert found["service_request_id"] == case.number


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_batch_service_returns_a_token_then_the_id(o311: O311, fmt: str) -> None:
    actions.do_save_service_setting(
        ServiceSetting(
            category=o311.catalog.road, service_type=ServiceType.BATCH, service_notice="三日内处理"
        ),
        actor=None,
    )
    item = posted(o311, fmt, **light(service_code="010101", **{"attribute[state]": None}))
    assert set(item) == {"token", "service_notice", "account_id"}  # never the id together with the token
    assert item["service_notice"] == "三日内处理"
    assert item["account_id"] is None
    [pair] = answer(o311, f"tokens/{item['token']}", "token")
    record = ServiceRequest.objects.select_related("case").get(token=item["token"])
    assert pair == {"service_request_id": record.case.number, "token": item["token"]}
    # Tokens belong to the endpoint the request was posted to.
    assert names(fails(o311, f"tokens/{item['token']}", 404, jurisdiction_id="430111")) == {"token"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blackbox_service_returns_neither_id_nor_token(o311: O311, fmt: str) -> None:
    actions.do_save_service_setting(
        ServiceSetting(category=o311.catalog.consult, service_type=ServiceType.BLACKBOX), actor=None
    )
    item = posted(o311, fmt, **light(service_code="04", **{"attribute[state]": None}))
    assert set(item) == {"service_notice", "account_id"}


def test_an_unknown_token_is_404(o311: O311) -> None:
    assert names(fails(o311, "tokens/deadbeef", 404)) == {"token"}


def test_a_retry_with_the_same_idempotency_key_returns_the_first_request(o311: O311) -> None:
    first = o311.post(headers={"Idempotency-Key": "k-1"}, **light())
    before = row_counts()
    again = o311.post(headers={"Idempotency-Key": "k-1"}, **light())
    assert body(again) == body(first)
    assert row_counts() == before
    assert names(post_fails(o311, 400, headers={"Idempotency-Key": "k" * 65}, **light())) == {
        "Idempotency-Key"
    }


# --- GET requests: filters and defaults -----------------------------------------------------------------


@dataclass
class Stock:
    """Requests at known times (days before NOW): a light 10 (open), b road 5 (voided: closed),
    c light 100 (outside the default 90 days), d light 1 (open, several answers), y 雨花区 2."""

    a: str
    b: str
    c: str
    d: str
    y: str


def _post_at(o311: O311, days: float, **params: Any) -> str:
    with clock.frozen(NOW - timedelta(days=days)):
        response = o311.post(**params)
    assert response.status_code == 200, response.content
    return str(body(response)[0]["service_request_id"])


@pytest.fixture
def stock(o311: O311) -> Stock:
    a = _post_at(o311, 10, **light())
    b = _post_at(o311, 5, **light(service_code="010101", **{"attribute[state]": None}))
    with clock.frozen(NOW - timedelta(days=4)):
        do_void(Case.objects.get(number=b), reason="重复", actor=None)
    c = _post_at(o311, 100, **light())
    d = _post_at(
        o311,
        1,
        **light(
            **{
                "attribute[hazards][]": ["wire", "traffic"],
                "attribute[count]": "2",
                "attribute[pole]": "P-12",
            }
        ),
    )
    y = _post_at(
        o311,
        2,
        jurisdiction_id="430111",
        api_key=o311.yh_key,
        **light(lat=str(YH_POINT[1]), long=str(YH_POINT[0])),
    )
    return Stock(a=a, b=b, c=c, d=d, y=y)


def ids(o311: O311, **params: Any) -> list[str]:
    return [r["service_request_id"] for r in answer(o311, "requests", "requests", **params)]


def test_the_default_is_the_last_90_days_newest_first(o311: O311, stock: Stock) -> None:
    assert ids(o311) == [stock.d, stock.b, stock.a]  # not c (100 days old), not y (another jurisdiction)
    assert ids(o311, jurisdiction_id="430111") == [stock.y]


def test_ids_override_every_other_argument(o311: O311, stock: Stock) -> None:
    found = ids(
        o311,
        service_request_id=f"{stock.a},{stock.c}, {stock.y} ,nope",
        service_code="04",
        status="closed",
        start_date="2026-11-20",
        end_date="2026-11-21",
    )
    assert found == [stock.a, stock.c]  # not y (another jurisdiction's), not "nope"
    assert ids(o311, service_request_id=f"{stock.a},{stock.c}", status="closed") == [stock.a, stock.c]
    # Repeated, the argument is one list.
    assert ids(o311, service_request_id=[stock.c, stock.b]) == [stock.b, stock.c]


def test_service_code_lists(o311: O311, stock: Stock) -> None:
    assert ids(o311, service_code="010102") == [stock.d, stock.a]
    assert ids(o311, service_code="010101") == [stock.b]
    assert ids(o311, service_code="010101,010102") == [stock.d, stock.b, stock.a]
    assert ids(o311, service_code=["010101", "010102"]) == [stock.d, stock.b, stock.a]
    assert ids(o311, service_code="04") == []
    assert ids(o311, service_code="nope") == []


def test_start_and_end_dates(o311: O311, stock: Stock) -> None:
    assert ids(o311, start_date="2026-11-17T10:00:00+08:00") == [stock.d, stock.b]
    assert ids(o311, end_date="2026-11-17T10:00:00+08:00") == [stock.a]  # 90 days back from the end
    assert ids(o311, start_date="2026-11-14T02:00:00Z", end_date="2026-11-19T10:00:00+08:00") == [
        stock.b,
        stock.a,
    ]
    # A bare end date includes its whole day; a bare start date starts at midnight (the server's zone).
    assert ids(o311, start_date="2026-11-19", end_date="2026-11-19") == [stock.b]
    assert ids(o311, start_date="2026-08-15", end_date="2026-09-01") == [stock.c]


def test_status(o311: O311, stock: Stock) -> None:
    assert ids(o311, status="open") == [stock.d, stock.a]
    assert ids(o311, status="closed") == [stock.b]
    assert ids(o311, status="open,closed") == [stock.d, stock.b, stock.a]
    assert ids(o311, status=["closed", "open"]) == [stock.d, stock.b, stock.a]
    assert ids(o311, status="CLOSED") == [stock.b]
    [b] = answer(o311, "requests", "requests", status="closed")
    assert b["status"] == "closed"


def test_paging(o311: O311, stock: Stock) -> None:
    assert ids(o311, page_size="2") == [stock.d, stock.b]
    assert ids(o311, page_size="2", page="2") == [stock.a]
    assert ids(o311, page_size="2", page="3") == []
    assert ids(o311, page="2") == []


def test_extensions(o311: O311, stock: Stock) -> None:
    [plain] = answer(o311, "requests", "requests", service_request_id=stock.d)
    assert set(plain) == set(schemas.REQUEST)
    assert answer(o311, "requests", "requests", service_request_id=stock.d, extensions="false") == [plain]
    [extended] = answer(o311, "requests", "requests", service_request_id=stock.d, extensions="true")
    assert {k: v for k, v in extended.items() if k in schemas.REQUEST} == plain
    # The answers as given (the order of a JSON column's keys is the database's).
    assert sorted(extended["attributes"], key=lambda a: a["code"]) == [
        {"code": "count", "value": "2"},
        {"code": "hazards", "value": "wire,traffic"},
        {"code": "pole", "value": "P-12"},
        {"code": "state", "value": "dark"},
    ]
    assert extended["extended_attributes"]["channel"] == "open311"
    assert extended["extended_attributes"]["status_code"] == "received"
    assert [n["type"] for n in extended["notes"]] == ["create"]
    assert ids(o311, extensions="true") == [stock.d, stock.b, stock.a]


def test_a_request_s_fields(o311: O311, stock: Stock) -> None:
    [a] = answer(o311, f"requests/{stock.a}", "requests")
    assert a["status"] == "open"
    assert a["service_code"] == "010102"
    assert a["service_name"] == "路灯"
    assert a["description"] == "小区东门路灯不亮。已经三天了"
    assert a["requested_datetime"] == "2026-11-14T10:00:00+08:00"
    assert (a["lat"], a["long"]) == (BJT_POINT[1], BJT_POINT[0])
    assert a["expected_datetime"] is not None  # the handling deadline promised at intake


def test_the_default_page_is_1000_requests(o311: O311, stock: Stock) -> None:
    template = Case.objects.get(number=stock.a)
    clones = []
    for n in range(1000):
        clone = copy.copy(template)
        clone.pk = None
        clone.number = f"430100-2026-9{n:05d}"
        clone.intake_key = None
        clone.received_at = NOW - timedelta(days=20, minutes=n)
        clones.append(clone)
    Case.objects.bulk_create(clones)
    response = o311.get("requests", "json")
    first = schemas.check(response, "json", "requests")
    assert len(first) == 1000
    second = schemas.check(o311.get("requests", "json", page="2"), "json", "requests")
    # 1,003 in the 90 days (d, b, a, then the clones, each a minute older): the 1,000 newest, then the rest.
    assert [r["service_request_id"] for r in first[:4]] == [stock.d, stock.b, stock.a, "430100-2026-900000"]
    assert [r["service_request_id"] for r in second] == [f"430100-2026-90099{n}" for n in (7, 8, 9)]


def test_one_request_is_a_one_element_list(o311: O311, stock: Stock) -> None:
    found = answer(o311, f"requests/{stock.c}", "requests")  # no date window for one request
    assert [r["service_request_id"] for r in found] == [stock.c]
    [extended] = answer(o311, f"requests/{stock.d}", "requests", extensions="true")
    assert extended["attributes"]


@pytest.mark.parametrize("number", ["430100-2026-999999", "nope"])
def test_an_unknown_request_is_404(o311: O311, stock: Stock, number: str) -> None:
    assert names(fails(o311, f"requests/{number}", 404)) == {"service_request_id"}


def test_a_request_of_another_jurisdiction_is_404(o311: O311, stock: Stock) -> None:
    assert names(fails(o311, f"requests/{stock.y}", 404)) == {"service_request_id"}


# --- servicerequestupdates -------------------------------------------------------------------------------


def test_updates_follow_the_lifecycle(o311: O311, stock: Stock) -> None:
    case = Case.objects.get(number=stock.d)
    world = o311.world
    with clock.frozen(NOW + timedelta(hours=1)):
        do_register(case, category=o311.light, actor=None)
    with clock.frozen(NOW + timedelta(hours=2)):
        do_dispatch(case, lead=world.units["430103-cg"], actor=None)
    with clock.frozen(NOW + timedelta(hours=3)):
        do_accept(case, actor=None)
    with clock.frozen(NOW + timedelta(hours=4)):
        do_reply(case, reply="已更换灯泡", actor=None)
    with clock.frozen(NOW + timedelta(hours=5)):
        updates = answer(o311, "servicerequestupdates", "updates", start_date="2026-11-24T10:30:00+08:00")
        mine = [u for u in updates if u["service_request_id"] == stock.d]
        assert [u["status"] for u in mine] == ["open", "in_progress", "in_progress", "in_progress"]
        assert [u["external_status_code"] for u in mine] == [
            "registered",
            "dispatched",
            "handling",
            "replied",
        ]
        assert mine[-1]["description"] == "已更换灯泡"
        assert mine[-1]["updated_datetime"] == "2026-11-24T14:00:00+08:00"
        assert len({u["update_id"] for u in updates}) == len(updates)
        # Oldest first, paged.
        two = answer(
            o311, "servicerequestupdates", "updates", start_date="2026-11-24T10:30:00+08:00", page_size="2"
        )
        assert two == updates[:2]
        rest = answer(
            o311,
            "servicerequestupdates",
            "updates",
            start_date="2026-11-24T10:30:00+08:00",
            page_size="2",
            page="2",
        )
        assert rest == updates[2:4]
        [request] = answer(o311, f"requests/{stock.d}", "requests")
        assert request["status_notes"] == "已更换灯泡"
        assert request["agency_responsible"] == "天心区城市管理和综合执法局"
        assert request["updated_datetime"] == "2026-11-24T14:00:00+08:00"
        # The default window: the last 90 days, so the intake of every request in it (not c's, 100 days).
        default = {u["service_request_id"] for u in answer(o311, "servicerequestupdates", "updates")}
        assert default == {stock.a, stock.b, stock.d}
        assert (
            answer(o311, "servicerequestupdates", "updates", jurisdiction_id="430111")[0][
                "service_request_id"
            ]
            == stock.y
        )


def test_closing_shows_in_updates(o311: O311, stock: Stock) -> None:
    updates = answer(o311, "servicerequestupdates", "updates")
    voided = [
        u for u in updates if u["service_request_id"] == stock.b and u["external_status_code"] == "void"
    ]
    assert [u["status"] for u in voided] == ["no_further_action"]


# --- Errors: jurisdiction_id and api_key ------------------------------------------------------------------

GET_PATHS = [
    "services",
    "services/010102",
    "requests",
    "requests/430100-2026-000001",
    "tokens/abc",
    "servicerequestupdates",
]


@pytest.mark.parametrize("path", GET_PATHS)
def test_an_unknown_jurisdiction_is_404(o311: O311, path: str) -> None:
    assert names(fails(o311, path, 404, jurisdiction_id="sfgov.org")) == {"jurisdiction_id"}


@pytest.mark.parametrize("path", GET_PATHS)
def test_jurisdiction_is_required_when_two_are_served(o311: O311, path: str) -> None:
    assert names(fails(o311, path, 400, jurisdiction_id=None)) == {"jurisdiction_id"}


def test_jurisdiction_is_optional_when_one_is_served(o311: O311) -> None:
    o311.yh.is_active = False
    actions.do_save_endpoint(o311.yh, actor=None)
    assert len(answer(o311, "services", "services", jurisdiction_id=None)) == 5
    answer(o311, "services/010102", "service_definition", jurisdiction_id=None)
    number = posted(o311, jurisdiction_id=None, **light())["service_request_id"]
    assert ids(o311, jurisdiction_id=None) == [number]
    answer(o311, "servicerequestupdates", "updates", jurisdiction_id=None)
    # The inactive one is unknown now.
    assert names(fails(o311, "services", 404, jurisdiction_id="430111")) == {"jurisdiction_id"}
    assert names(post_fails(o311, 404, jurisdiction_id="430111", api_key=o311.yh_key, **light())) == {
        "jurisdiction_id"
    }


def test_post_jurisdiction_errors(o311: O311) -> None:
    assert names(post_fails(o311, 404, jurisdiction_id="sfgov.org", **light())) == {"jurisdiction_id"}
    assert names(post_fails(o311, 400, jurisdiction_id=None, **light())) == {"jurisdiction_id"}


def test_post_needs_a_valid_key_of_the_endpoint(o311: O311) -> None:
    assert names(post_fails(o311, 403, api_key=None, **light())) == {"api_key"}
    assert names(post_fails(o311, 403, api_key="", **light())) == {"api_key"}
    assert names(post_fails(o311, 403, api_key="o311_" + "x" * 43, **light())) == {"api_key"}
    assert names(post_fails(o311, 403, api_key="not-a-key", **light())) == {"api_key"}
    assert names(post_fails(o311, 403, api_key=o311.yh_key, **light())) == {"api_key"}  # 雨花区's key
    key, secret = actions.do_issue_api_key(o311.tx, name="old app", actor=None)
    posted(o311, api_key=secret, **light())
    actions.do_revoke_api_key(key, actor=None)
    assert names(post_fails(o311, 403, api_key=secret, **light())) == {"api_key"}


@pytest.mark.parametrize("path", GET_PATHS)
def test_a_get_with_a_bad_key_is_403(o311: O311, path: str) -> None:
    # The key is optional on GET, but one given must be valid (a client should learn its key is dead).
    assert names(fails(o311, path, 403, api_key="o311_" + "x" * 43)) == {"api_key"}
    assert names(fails(o311, path, 403, api_key=o311.yh_key)) == {"api_key"}


def test_a_key_over_its_rate_is_429(o311: O311) -> None:
    key, secret = actions.do_issue_api_key(o311.tx, name="busy app", requests_per_minute=3, actor=None)
    assert o311.get("services", api_key=secret).status_code == 200
    posted(o311, api_key=secret, **light())
    assert o311.get("requests", "xml", api_key=secret).status_code == 200
    for path in GET_PATHS:
        fails(o311, path, 429, api_key=secret)
    post_fails(o311, 429, api_key=secret, **light())
    with clock.frozen(NOW + timedelta(minutes=1)):  # a new minute
        answer(o311, "services", "services", api_key=secret)
    key.refresh_from_db()
    assert key.last_used_at is not None


# --- Errors: POST arguments ------------------------------------------------------------------------------


def test_service_code_is_required_and_must_exist(o311: O311) -> None:
    assert names(post_fails(o311, 400, **light(service_code=None))) == {"service_code"}
    assert names(post_fails(o311, 400, **light(service_code=""))) == {"service_code"}
    assert names(post_fails(o311, 404, **light(service_code="nope"))) == {"service_code"}
    assert names(post_fails(o311, 404, **light(service_code="01"))) == {"service_code"}  # a group


def test_a_location_is_required(o311: O311) -> None:
    assert names(post_fails(o311, 400, **light(lat=None, long=None))) == {"lat"}
    # Any one of the three forms of location will do.
    posted(o311, **light(lat=None, long=None, address_string="坡子街街道八角亭社区 12 栋"))


@pytest.mark.parametrize(
    ("lat", "long", "argument"),
    [
        ("abc", "112.91", "lat"),
        ("28.11", "east", "long"),
        ("91", "112.91", "lat"),
        ("28.11", "-181", "long"),
        ("nan", "112.91", "lat"),
        ("28.11", "inf", "long"),
        ("1e309", "112.91", "lat"),
        ("28.11", None, "long"),  # one without the other
        (None, "112.91", "lat"),
        ("0", "0", "lat"),  # far outside 天心区
        (str(YH_POINT[1]), str(YH_POINT[0]), "lat"),  # in 雨花区, not 天心区
    ],
)
def test_bad_lat_long(o311: O311, lat: str | None, long: str | None, argument: str) -> None:
    assert argument in names(post_fails(o311, 400, **light(lat=lat, long=long)))


@pytest.mark.parametrize(
    ("answers", "argument"),
    [
        ({"attribute[state]": None}, "attribute[state]"),  # required
        ({"attribute[state]": ""}, "attribute[state]"),
        ({"attribute[state]": "purple"}, "attribute[state]"),  # not a listed value
        ({"attribute[state]": ["dark", "flicker"]}, "attribute[state]"),  # one value only
        ({"attribute[hazards][]": ["wire", "smoke"]}, "attribute[hazards]"),
        ({"attribute[count]": "many"}, "attribute[count]"),
        ({"attribute[count]": "nan"}, "attribute[count]"),
        ({"attribute[seen_at]": "yesterday"}, "attribute[seen_at]"),
        ({"attribute[seen_at]": "2026-13-01T00:00:00Z"}, "attribute[seen_at]"),
        ({"attribute[pole]": "x" * 201}, "attribute[pole]"),
        ({"attribute[notes]": "a\x00b"}, "attribute[notes]"),
    ],
)
def test_bad_attributes(o311: O311, answers: dict[str, Any], argument: str) -> None:
    assert names(post_fails(o311, 400, **light(**answers))) == {argument}


def test_good_attributes_are_kept(o311: O311) -> None:
    item = posted(
        o311,
        **light(
            **{
                "attribute[hazards][]": ["wire", "fall", "wire"],
                "attribute[count]": "-0.5",
                "attribute[seen_at]": "2026-11-23T20:00:00Z",
                "attribute[notes]": "第二行\n第三行",
                "attribute[unknown]": "ignored",  # clients send their own extras to every server
            }
        ),
    )
    record = ServiceRequest.objects.get(case__number=item["service_request_id"])
    assert record.attributes == {
        "state": "dark",
        "hazards": ["wire", "fall"],
        "count": "-0.5",
        "seen_at": "2026-11-23T20:00:00+00:00",
        "notes": "第二行\n第三行",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "长" * 4001),
        ("description", "路灯 <b>不亮</b>"),
        ("description", "<script>alert(1)</script>"),
        ("description", "a\x00b"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("phone", "12345"),
        ("phone", "1" * 21),
        ("media_url", "ftp://example.com/a.jpg"),
        ("media_url", "not a url"),
        ("media_url", "javascript:alert(1)"),
        ("first_name", "x" * 33),
        ("address_id", "B-unknown"),
        ("zipcode", "4" * 17),
    ],
)
def test_bad_post_arguments(o311: O311, field: str, value: str) -> None:
    assert names(post_fails(o311, 400, **light(**{field: value}))) == {field}


def test_every_problem_is_listed_at_once(o311: O311) -> None:
    found = names(
        post_fails(
            o311,
            400,
            **light(
                lat="abc",
                email="x",
                media_url="ftp://x",
                **{"attribute[state]": None, "attribute[count]": "z"},
            ),
        )
    )
    assert found == {"lat", "email", "media_url", "attribute[state]", "attribute[count]"}


def test_the_post_must_be_a_form(o311: O311) -> None:
    for fmt in FORMATS:
        response = o311.client.post(
            f"/open311/v2/requests.{fmt}?jurisdiction_id=430103&api_key={o311.key}",
            data=b'{"service_code": "010102"}',
            content_type="application/json",
        )
        assert response.status_code == 400
        schemas.check(response, fmt, "errors")
    # A body that cannot be read as a form is the same 400 (it was Django's HTML page), nothing written.
    before = row_counts()
    for content_type, data in [
        ("multipart/form-data", b"no boundary"),
        ("multipart/form-data; boundary=", b"x"),
        ("application/x-www-form-urlencoded; charset=utf-16", b"service_code=\xff\xfe"),
    ]:
        for fmt in FORMATS:
            url = f"/open311/v2/requests.{fmt}?jurisdiction_id=430103&api_key={o311.key}"
            response = o311.client.generic("POST", url, data, content_type=content_type)
            assert response.status_code == 400, (content_type, response.content[:200])
            schemas.check(response, fmt, "errors")
    assert row_counts() == before
    # The specification's own form encoding is taken in.
    response = o311.client.post(
        "/open311/v2/requests.xml",
        data=urlencode({**light(), "jurisdiction_id": "430103", "api_key": o311.key}),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    assert schemas.check(response, "xml", "post")[0]["service_request_id"]


# --- Errors: GET arguments --------------------------------------------------------------------------------

DATE_PATHS = ["requests", "servicerequestupdates"]


@pytest.mark.parametrize("path", DATE_PATHS)
@pytest.mark.parametrize(
    ("params", "argument"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"end_date": "2026-11-24T25:00:00Z"}, "end_date"),
        ({"end_date": "10000-01-01"}, "end_date"),
        ({"start_date": "0001-01-01T00:00:00Z"}, "start_date"),
        ({"start_date": "2026-11-24T10:00:00+23:59"}, "start_date"),  # PostgreSQL refused it: a 500
        ({"start_date": "2026-11-20", "end_date": "2026-11-10"}, "end_date"),  # end before start
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "end_date"),  # > 90 days
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "١٠"}, "page_size"),  # Arabic-Indic digits are digits to Python, not to clients
        ({"page": "9" * 5000}, "page"),  # more digits than int() reads (it raised: a 500)
        ({"page_size": "1" * 4301}, "page_size"),
    ],
)
def test_bad_dates_and_paging(o311: O311, path: str, params: dict[str, str], argument: str) -> None:
    assert names(fails(o311, path, 400, **params)) == {argument}


@pytest.mark.parametrize("status", ["pending", "open,pending", "open;closed", "open,closed,open"])
def test_a_bad_status_is_400(o311: O311, status: str) -> None:
    assert names(fails(o311, "requests", 400, status=status)) == {"status"}


def test_a_bad_extensions_flag_is_400(o311: O311, stock: Stock) -> None:
    for path in ("requests", f"requests/{stock.a}"):
        assert names(fails(o311, path, 400, extensions="maybe")) == {"extensions"}


@pytest.mark.parametrize("argument", ["service_request_id", "service_code"])
def test_control_characters_in_a_list_are_400(o311: O311, argument: str) -> None:
    # PostgreSQL refuses NUL in a text parameter: it was a 500 there.
    assert names(fails(o311, "requests", 400, **{argument: "a\x00b,c"})) == {argument}
    assert names(fails(o311, "requests", 400, **{argument: "\x1b[31m"})) == {argument}


@pytest.mark.parametrize("path", ["requests/a%00b", "tokens/a%00b", "services/a%00b"])
def test_a_nul_in_the_path_is_an_unknown_resource(o311: O311, path: str) -> None:
    assert len(fails(o311, path, 404)) == 1  # (a 500 on PostgreSQL for requests and tokens before)


def test_too_many_ids_is_400(o311: O311) -> None:
    assert names(fails(o311, "requests", 400, service_request_id=",".join(str(n) for n in range(1001)))) == {
        "service_request_id"
    }


# --- Errors: methods and resources -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "v2/requests"),
        ("delete", "v2/requests"),
        ("patch", "v2/requests"),
        ("post", "v2/services"),
        ("post", "v2/services/010102"),
        ("post", "v2/requests/430100-2026-000001"),
        ("post", "v2/tokens/abc"),
        ("post", "v2/servicerequestupdates"),
        ("delete", "v2/services"),
        ("post", "discovery"),
    ],
)
def test_a_wrong_method_is_405(o311: O311, method: str, path: str) -> None:
    found = {}
    for fmt in FORMATS:
        url = f"/open311/{path}.{fmt}?jurisdiction_id=430103&api_key={o311.key}"
        response = getattr(o311.client, method)(url)
        assert response.status_code == 405, (url, response.status_code)
        assert "GET" in response["Allow"]
        found[fmt] = schemas.check(response, fmt, "errors")
    schemas.same_answer(found["json"], found["xml"])


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("/open311/v2/foo.json", "json"),
        ("/open311/v2/foo.xml", "xml"),
        ("/open311/v2/requests.csv", "xml"),
        ("/open311/v2/services.JSON", "xml"),
        ("/open311/v2/", "xml"),
        ("/open311/", "xml"),
        ("/open311/v3/services.json", "json"),
        ("/open311/v2/requests/a/b.json", "json"),
        ("/open311/v2/services/" + "x" * 65 + ".json", "json"),
        ("/open311/v2/request/430100-2026-000001.json", "json"),  # the swagger file's spelling
        ("/open311/%0A.json", "json"),  # a newline in the path (was Django's HTML 404)
        ("/open311/v2/%0Aservices.xml", "xml"),
    ],
)
def test_an_unknown_resource_is_404(o311: O311, url: str, fmt: str) -> None:
    for method in ("get", "post"):
        response = getattr(o311.client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
        schemas.check(response, fmt, "errors")


# --- An empty optional argument is an absent one ---------------------------------------------------------


def _same_both_ways(o311: O311, path: str, base: dict[str, Any], argument: str) -> int:
    """The answer with ``argument=`` is byte for byte the answer without it (both formats); its status."""
    status = 0
    for fmt in FORMATS:
        without = o311.get(path, fmt, **base)
        empty = o311.get(path, fmt, **{**base, argument: ""})
        assert (empty.status_code, empty.content) == (without.status_code, without.content), (
            path,
            argument,
            fmt,
        )
        status = without.status_code
    return status


def test_empty_optional_get_arguments(o311: O311, stock: Stock) -> None:
    token = ServiceRequest.objects.get(case__number=stock.a).token
    dates = {"start_date": "2026-11-01", "end_date": "2026-11-30"}
    paging = {"page": "1", "page_size": "2"}
    key = {"api_key": o311.key}
    # Each method with every optional argument given, and the ones tested besides (ids override the rest).
    calls: list[tuple[str, dict[str, str], list[str]]] = [
        ("services", key, []),
        ("services/010102", key, []),
        (
            "requests",
            {
                **key,
                **dates,
                **paging,
                "service_code": "010102,010101",
                "status": "open,closed",
                "extensions": "true",
            },
            ["service_request_id"],
        ),
        (f"requests/{stock.a}", {**key, "extensions": "true"}, []),
        (f"tokens/{token}", key, []),
        ("servicerequestupdates", {**key, **dates, **paging}, []),
    ]
    statuses = set()
    for path, full, besides in calls:
        for argument in [*full, *besides, "jurisdiction_id"]:
            # Next to every other argument (an empty one cannot hide behind another's default), and alone.
            for others in ({k: v for k, v in full.items() if k != argument}, {}):
                base: dict[str, Any] = {**others, "jurisdiction_id": "430103"}
                if argument == "jurisdiction_id":
                    base["jurisdiction_id"] = None
                statuses.add(_same_both_ways(o311, path, base, argument))
    assert statuses == {200, 400}  # jurisdiction_id= with two endpoints served is a missing one: 400
    for fmt in FORMATS:
        without = o311.client.get(f"/open311/discovery.{fmt}")
        empty = o311.client.get(f"/open311/discovery.{fmt}", {"jurisdiction_id": ""})
        assert (empty.status_code, empty.content) == (without.status_code, without.content)


POST_OPTIONAL = [
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
    "zipcode",
    "attribute[pole]",
    "attribute[hazards][]",
    "attribute[count]",
    "attribute[seen_at]",
    "attribute[notes]",
    "lat",
    "long",
]
_PER_CALL = ("service_request_id", "token", "requested_datetime", "updated_datetime", "expected_datetime")


def _stored(o311: O311, number: str) -> dict[str, Any]:
    """What a posted request looks like afterwards: its GET answer (with extensions) and its rows, without
    what differs between any two posts (the number, the token, the times)."""
    [request] = answer(o311, f"requests/{number}", "requests", extensions="true")
    request = {k: v for k, v in request.items() if k not in _PER_CALL}
    request["notes"] = [{k: v for k, v in n.items() if k != "datetime"} for n in request["notes"]]
    record = ServiceRequest.objects.select_related("case").get(case__number=number)
    record_fields = ("email", "device_id", "account_id", "address_id", "zipcode", "media_url", "attributes")
    case_fields = (
        "title",
        "description",
        "address",
        "reporter_name",
        "reporter_phone",
        "is_anonymous",
        "lon",
        "lat",
        "origin_path",
        "jurisdiction_id",
        "grid_cell_id",
    )
    return {
        "request": request,
        "record": [getattr(record, f) for f in record_fields],
        "case": [getattr(record.case, f) for f in case_fields],
    }


@pytest.mark.parametrize("argument", POST_OPTIONAL)
def test_empty_optional_post_arguments(o311: O311, argument: str) -> None:
    full = light(
        email="zhang@example.com",
        device_id="dev-1",
        account_id="acct-1",
        first_name="三",
        last_name="张",
        phone="13812345678",
        media_url="https://example.com/a.jpg",
        zipcode="410000",
        address_string="坡子街街道八角亭社区",
        **{
            "attribute[pole]": "P-1",
            "attribute[hazards][]": ["wire"],
            "attribute[count]": "3",
            "attribute[seen_at]": "2026-11-24T08:00:00+08:00",
            "attribute[notes]": "备注",
        },
    )
    if argument in ("lat", "long"):  # one of a pair: the location then comes from the address
        full.pop("lat"), full.pop("long")
    without = {k: v for k, v in full.items() if k != argument}
    items = {}
    for name, params in (("without", without), ("empty", {**without, argument: ""})):
        item = posted(o311, **params)
        items[name] = (item, _stored(o311, item["service_request_id"]))
    (item_without, stored_without), (item_empty, stored_empty) = items["without"], items["empty"]
    assert {k: v for k, v in item_empty.items() if k not in _PER_CALL} == {
        k: v for k, v in item_without.items() if k not in _PER_CALL
    }
    assert stored_empty == stored_without


@pytest.mark.parametrize("argument", ["jurisdiction_id", "api_key", "service_code"])
def test_an_empty_required_post_argument_is_a_missing_one(o311: O311, argument: str) -> None:
    params = light()
    absent = post_fails(o311, 400 if argument != "api_key" else 403, **{**params, argument: None})
    assert post_fails(o311, 400 if argument != "api_key" else 403, **{**params, argument: ""}) == absent


def test_text_says_the_same_in_both_formats(o311: O311) -> None:
    text = '第一行\r\n第二行\r第三行 1<2 & 3>2 \t ]]> "引号" \U0001f600'
    number = posted(o311, **light(description=text))["service_request_id"]
    [request] = answer(o311, f"requests/{number}", "requests")  # the XML answer is compared too
    assert request["description"] == text


# --- The validators can fail ----------------------------------------------------------------------------

GOOD_JSON = [
    {
        "service_request_id": "430100-2026-000001",
        "status": "open",
        "status_notes": None,
        "service_name": "路灯",
        "service_code": "010102",
        "description": None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": "2026-11-24T10:00:00+08:00",
        "updated_datetime": "2026-11-24T02:00:00Z",
        "expected_datetime": None,
        "address": "八角亭",
        "address_id": None,
        "zipcode": None,
        "lat": 28.11,
        "long": 112.91,
        "media_url": "https://example.com/a.jpg",
    }
]
GOOD_XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<service_requests><request>'
    + "".join(f"<{k}/>" if v is None else f"<{k}>{v}</{k}>" for k, v in GOOD_JSON[0].items())
    + "</request></service_requests>"
)


def _response(content: str, fmt: str, content_type: str | None = None) -> HttpResponse:
    return HttpResponse(content.encode(), content_type=content_type or schemas.CONTENT_TYPES[fmt])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("requested_datetime", "2026-11-24T10:00:00"),  # no zone
        ("updated_datetime", "2026-11-24"),
        ("status", "pending"),
        ("status", "OPEN"),
        ("lat", "28.11"),
        ("service_request_id", 42),
        ("media_url", "not a url"),
        ("extra", "x"),
        ("description", "x" * 4001),
    ],
)
def test_the_json_validator_refuses_what_the_specification_does_not_allow(field: str, value: Any) -> None:
    schemas.check(_response(json.dumps(GOOD_JSON), "json"), "json", "requests")
    with pytest.raises(AssertionError):
        schemas.check(_response(json.dumps([{**GOOD_JSON[0], field: value}]), "json"), "json", "requests")


def test_the_json_validator_refuses_missing_fields_and_bad_shapes() -> None:
    for missing in ("service_request_id", "status", "requested_datetime", "service_code", "media_url"):
        item = {k: v for k, v in GOOD_JSON[0].items() if k != missing}
        with pytest.raises(AssertionError):
            schemas.check(_response(json.dumps([item]), "json"), "json", "requests")
    bad: list[tuple[Any, schemas.Kind]] = [
        ({"service_request_id": "1"}, "requests"),  # not a list
        (["1"], "requests"),
        ([{"service_request_id": "1", "token": "t", "service_notice": None, "account_id": None}], "post"),
        ([{"code": "400", "description": "x"}], "errors"),
        ([], "errors"),
        ([{"service_code": "1", "service_name": "x", "metadata": "true", "type": "realtime"}], "services"),
        (
            {
                "service_code": "1",
                "attributes": [{"variable": True, "code": "a", "datatype": "list", "required": False}],
            },
            "service_definition",
        ),
        (
            {
                "service_code": "1",
                "attributes": [
                    {
                        "variable": True,
                        "code": "a",
                        "datatype": "singlevaluelist",
                        "required": False,
                        "datatype_description": None,
                        "order": 1,
                        "description": "q",
                    }
                ],
            },
            "service_definition",
        ),
    ]
    for data, kind in bad:
        with pytest.raises(AssertionError):
            schemas.check(_response(json.dumps(data), "json"), "json", kind)
    with pytest.raises(AssertionError):  # the content type names the charset
        schemas.check(_response(json.dumps(GOOD_JSON), "json", "application/json"), "json", "requests")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<status>open</status>", "<status>pending</status>"),
        ("<status>open</status>", ""),  # missing
        ("<status>open</status>", "<status>open</status><status>open</status>"),
        ("<zipcode/>", "<zipcode/><ward>3</ward>"),  # foreign
        ("+08:00</requested_datetime>", "</requested_datetime>"),
        ("<lat>28.11</lat>", "<lat>north</lat>"),
        ("<request>", '<request id="1">'),
        ("request>", "item>"),
        ('encoding="utf-8"', 'encoding="iso-8859-1"'),
        ('<?xml version="1.0" encoding="utf-8"?>\n', ""),
        ("service_requests>", "requests>"),
        ("<request>", "<request><request>"),  # not well-formed
    ],
)
def test_the_xml_checker_refuses_what_the_specification_does_not_allow(old: str, new: str) -> None:
    schemas.check(_response(GOOD_XML, "xml"), "xml", "requests")
    assert old in GOOD_XML
    with pytest.raises(AssertionError):
        schemas.check(_response(GOOD_XML.replace(old, new), "xml"), "xml", "requests")


def test_the_formats_must_say_the_same() -> None:
    xml = schemas.check(_response(GOOD_XML, "xml"), "xml", "requests")
    schemas.same_answer(GOOD_JSON, xml)
    for field, value in (("lat", 28.12), ("status_notes", "已修复"), ("address", None)):
        with pytest.raises(AssertionError):
            schemas.same_answer([{**GOOD_JSON[0], field: value}], xml)
