"""Fuzzing every Open311 method with malformed and hostile input (hypothesis): random, huge, control-character
and NUL strings, SQL- and XML-looking text, repeated arguments, absurd numbers and dates, odd path segments,
raw bytes that are not UTF-8, and POSTs built from a valid request with some arguments spoiled.

Whatever comes in, the answer is a 2xx or one of 400/403/404/405/429, in the format the address asks for,
valid by tests/open311/schemas.py (an error as the specification's errors list whose codes are the status);
never a 5xx. A POST that is not taken in writes nothing (no case, event, clock, Open311 row or outbox
message); one that is taken in writes exactly one case and one Open311 row.

Each example runs in a savepoint that is rolled back, so examples do not see each other's requests and a
database error in one (PostgreSQL aborts the transaction) cannot hide behind the next. The number of
examples per method is ``EXAMPLES`` × ``CIVICGRID_FUZZ_SCALE`` (default 1) for longer runs by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from django.http import QueryDict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from civicgrid.cases.models import Case
from civicgrid.open311 import actions
from civicgrid.open311.models import ServiceRequest, ServiceSetting, ServiceType
from tests.open311 import schemas
from tests.open311.conftest import BJT_POINT, O311, YH_POINT, body
from tests.open311.test_conformance import row_counts

EXAMPLES = 100
SCALE = float(os.environ.get("CIVICGRID_FUZZ_SCALE", "1"))
ANSWERED = frozenset({400, 403, 404, 405, 429})
FORMATS = ("json", "xml")


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        database=None,  # nothing written into the repository; a failure prints its example
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# --- Hostile values --------------------------------------------------------------------------------------

SQL = [
    "' OR '1'='1",
    "1; DROP TABLE cases_case; --",
    "430100-2026-000001' --",
    "%",
    "_",
    "%%' ESCAPE '\\",
    "\\",
    "' UNION SELECT password FROM accounts_user --",
    "$1",
    "::text",
    "*/ /*",
]
XML = [
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    '<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><a>&b;</a>',
    "<![CDATA[x]]>",
    "]]>",
    "&amp;&lt;&#0;&#x1F;",
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    '{"$ne": null}',
    "<service_requests><request/></service_requests>",
]
NUMBERS = [
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e-400",
    "-0",
    "-0.0",
    "0x1F",
    "1_000",
    "１２",  # fullwidth digits
    "٣",  # Arabic-Indic digit
    "²",
    "28.11",
    "112.91",
    "90.0000001",
    "-180",
    "9" * 5000,  # beyond Python's 4,300-digit int() limit
    "0" * 300 + "1",
    "1e2",
    " 7 ",
]
DATES = [
    "0000-00-00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "10000-01-01",
    "-2026-01-01",
    "2026-11-24T10:00:00+25:00",
    "2026-11-24T10:00:00+23:59",
    "2026-11-24T10:00:00-23:59",
    "2026-11-24T24:00:00",
    "2026-02-29",
    "2024-02-29",
    "1900-01-01",
    "2200-12-31T23:59:59-12:00",
    "2026-W47-4",
    "20261124",
    "2026-11-24T10:00:00.123456789Z",
    "2026-11-24T10:00Z",
    "2026-11-24 10:00:00",
    "now",
    "yesterday",
    "1e9",
]
NAMES = [
    "jurisdiction_id",
    "api_key",
    "service_code",
    "service_request_id",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
    "extensions",
    "lat",
    "long",
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
    "attribute[state]",
    "attribute[hazards][]",
    "attribute[hazards]",
    "attribute[count]",
    "attribute[seen_at]",
    "attribute[notes]",
    "attribute[pole]",
    "attribute[]",
    "attribute[[x]]",
    "attribute[state][]",
    "attribute[" + "x" * 70 + "]",
    "format",
    "callback",
]
FRIENDLY = [
    "",
    " ",
    "open",
    "closed",
    "open,closed",
    "true",
    "false",
    "1",
    "2",
    "1000",
    "1001",
    "430103",
    "010102",
]


def huge() -> st.SearchStrategy[str]:
    return st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "长", "\x00", "<", "%", ",", "😀"]), st.integers(1, 70_000)
    )


def hostile() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=40),  # any Unicode, control characters and NUL included
        st.text(st.characters(codec="ascii"), max_size=20),
        st.sampled_from(SQL + XML + NUMBERS + DATES + FRIENDLY),
        st.integers().map(str),
        st.floats().map(str),
        huge(),
    )


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NUMBERS),
        st.integers().map(str),
        st.floats().map(repr),
        # Runs of digits around what int() reads (it refuses strings of over 4,300 digits).
        st.sampled_from([2, 10, 4300, 4301, 20_000]).map(lambda n: "9" * n),
    )


def dates() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(DATES),
        st.datetimes().map(lambda d: d.isoformat()),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        st.dates().map(str),
    )


# Arguments whose values are drawn half of the time from near-misses of their own type.
TYPED: dict[str, Callable[[], st.SearchStrategy[str]]] = {
    "page": numbers,
    "page_size": numbers,
    "lat": numbers,
    "long": numbers,
    "attribute[count]": numbers,
    "start_date": dates,
    "end_date": dates,
    "attribute[seen_at]": dates,
    "status": lambda: st.sampled_from(
        ["open", "closed", "open,closed", "OPEN", "open,,", ",", "all", "open;closed"]
    ),
    "extensions": lambda: st.sampled_from(["true", "TRUE", " yes ", "1", "false", "0", "maybe", "truee"]),
}


def argument_values(name: str) -> st.SearchStrategy[str | list[str]]:
    """One value, or several (the argument repeated)."""
    one = st.one_of(TYPED[name](), hostile()) if name in TYPED else hostile()
    return st.one_of(one, st.lists(one, min_size=2, max_size=4))


def argument_names(own: list[str] | None = None) -> st.SearchStrategy[str]:
    """Mostly the method's own arguments (when given), then any Open311 argument, then anything."""
    names = st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=20))
    return st.one_of(st.sampled_from(own), st.sampled_from(own), names) if own else names


@st.composite
def arguments(draw: st.DrawFn, own: list[str] | None = None, most: int = 6) -> dict[str, str | list[str]]:
    found: dict[str, str | list[str]] = {}
    for name in draw(st.lists(argument_names(own), max_size=most, unique=True)):
        found[name] = draw(argument_values(name))
    return found


@st.composite
def query(draw: st.DrawFn, keys: list[str], own: list[str]) -> str:
    """A query string: hostile arguments, usually with a jurisdiction (valid or not) and sometimes a key."""
    pairs: list[tuple[str, str]] = []
    jurisdiction = draw(st.sampled_from(["430103", "430103", "430111", None, "", "sfgov.org", "\x00"]))
    if jurisdiction is not None:
        pairs.append(("jurisdiction_id", jurisdiction))
    api_key = draw(st.sampled_from(["valid", "other", "busy", None, None, "random"]))
    if api_key == "random":
        pairs.append(("api_key", draw(hostile())))
    elif api_key is not None:
        pairs.append(("api_key", keys[["valid", "other", "busy"].index(api_key)]))
    for name, value in draw(arguments(own)).items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, one))
    if draw(st.integers(0, 9)) == 0:  # bytes that are not UTF-8, percent-encoded, and stray separators
        raw = draw(st.binary(max_size=30))
        return urlencode(pairs) + "&" + "".join(f"%{b:02X}" for b in raw) + "=&&=%&"
    return urlencode(pairs)


def segment(known: list[str]) -> st.SearchStrategy[str]:
    """A path segment for services/{code}, requests/{id} and tokens/{token}, percent-encoded."""
    text = st.one_of(st.sampled_from(known), hostile().filter(bool))
    return st.one_of(
        text.map(lambda s: quote(s, safe="")),
        st.binary(min_size=1, max_size=40).map(lambda b: "".join(f"%{x:02X}" for x in b)),
        st.sampled_from(["..", ".", "%2e%2e", "a/b", "%2F", "%00", "x" * 64, "x" * 65, "%C0%AF", "%FF%FE"]),
    )


# --- The world the fuzz runs in ---------------------------------------------------------------------------


@dataclass
class Fuzz:
    o311: O311
    keys: list[str]  # valid (天心区), other (雨花区's), busy (over its rate)
    numbers: list[str]  # published requests
    tokens: list[str]
    codes: list[str]


@pytest.fixture
def fuzz(o311: O311) -> Fuzz:
    actions.do_save_service_setting(
        ServiceSetting(category=o311.catalog.road, service_type=ServiceType.BATCH), actor=None
    )
    numbers = [body(o311.post_light())[0]["service_request_id"]]
    token = body(o311.post_light(service_code="010101", **{"attribute[state]": None}))[0]["token"]
    _key, busy = actions.do_issue_api_key(o311.tx, name="busy", requests_per_minute=1, actor=None)
    assert o311.get("services", api_key=busy).status_code == 200  # its one request this minute
    return Fuzz(
        o311=o311,
        keys=[o311.key, o311.yh_key, busy],
        numbers=numbers,
        tokens=[token],
        codes=["010102", "010101", "01", "04"],
    )


def _extensions_asked(query_string: str) -> bool:
    """Whether the answer carries the extensions, read as the specification's optional boolean."""
    values = QueryDict(query_string).getlist("extensions")
    return bool(values) and values[-1].strip().lower() in ("true", "1", "yes")


def check_answer(response: Any, fmt: str, kind: schemas.Kind, *, extensions: bool = False) -> None:
    status = response.status_code
    assert status < 500, (status, response.content[:500])
    if response.request["REQUEST_METHOD"] == "HEAD":
        assert status in (200, *ANSWERED), status
        return
    if 200 <= status < 300:
        schemas.check(response, fmt, kind, extensions=extensions)
    else:
        assert status in ANSWERED, (status, response.content[:500])
        schemas.check(response, fmt, "errors")


def in_savepoint(run: Callable[[], None]) -> None:
    with transaction.atomic():
        run()
        transaction.set_rollback(True)


# --- GET methods -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    kind: schemas.Kind
    path: str  # {} stands for the path segment
    segment: str = ""  # which list of known values the segment draws from
    arguments: tuple[str, ...] = ()


REQUESTS_ARGUMENTS = (
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
    "extensions",
)
GET_METHODS = [
    Method("discovery", "/open311/discovery.{fmt}"),
    Method("services", "/open311/v2/services.{fmt}"),
    Method("service_definition", "/open311/v2/services/{}.{fmt}", "codes"),
    Method("requests", "/open311/v2/requests.{fmt}", arguments=REQUESTS_ARGUMENTS),
    Method("requests", "/open311/v2/requests/{}.{fmt}", "numbers", ("extensions",)),
    Method("token", "/open311/v2/tokens/{}.{fmt}", "tokens"),
    Method(
        "updates",
        "/open311/v2/servicerequestupdates.{fmt}",
        arguments=("start_date", "end_date", "page", "page_size"),
    ),
]


# Known hostile calls, tried first every run (hypothesis's explicit examples): NUL where PostgreSQL takes
# text, numbers int() refuses (over 4,300 digits), bytes that are not UTF-8, a newline in the path.
KNOWN: list[tuple[str, str]] = [
    ("%00", "jurisdiction_id=430103&page=" + "9" * 5000),
    ("a%00b", "jurisdiction_id=430103&service_code=%00&service_request_id=a%00b&start_date=%00"),
    ("%0A", "jurisdiction_id=430103&page_size=" + "1" * 4301 + "&extensions=true&status=open%00"),
    ("%FF%FE", "jurisdiction_id=%FF&status=%FF%FE&service_code=%C0%AF&api_key=o311_%00"),
    ("x" * 64, "jurisdiction_id=430103&end_date=9999-12-31T23:59:59-23:59&extensions=%00"),
]


def _with_known(run: Callable[..., None]) -> Callable[..., None]:
    for segment_text, query_string in KNOWN:
        for fmt in FORMATS:
            run = example(part=segment_text, query_string=query_string, fmt=fmt, verb="get")(run)
    return run


@pytest.mark.parametrize("method", GET_METHODS, ids=lambda m: m.path.removeprefix("/open311/").split(".")[0])
def test_get_methods_survive_hostile_input(fuzz: Fuzz, method: Method) -> None:
    client = fuzz.o311.client

    @fuzz_settings()
    @given(
        part=segment(getattr(fuzz, method.segment)) if method.segment else st.just(""),
        query_string=query(fuzz.keys, list(method.arguments)),
        fmt=st.sampled_from(FORMATS),
        verb=st.sampled_from(["get"] * 8 + ["head", "post", "put", "delete", "options"]),
    )
    @_with_known
    def run(part: str, query_string: str, fmt: str, verb: str) -> None:
        path = method.path.replace("{}", part)
        url = path.format(fmt=fmt) + "?" + query_string
        # POST to the requests list is the POST method (an empty form, arguments in the query string).
        kind: schemas.Kind = "post" if verb == "post" and path.endswith("/requests.{fmt}") else method.kind

        def call() -> None:
            before = row_counts()
            response = getattr(client, verb)(url)
            # A segment that decodes to a "/" (or is too long) is another resource: an unknown one.
            check_answer(response, fmt, kind, extensions=_extensions_asked(query_string))
            if kind != "post" or response.status_code != 200:
                assert row_counts() == before

        in_savepoint(call)

    run()


# --- POST ------------------------------------------------------------------------------------------------

VALID = {
    "service_code": "010102",
    "lat": str(BJT_POINT[1]),
    "long": str(BJT_POINT[0]),
    "description": "小区东门路灯不亮",
    "attribute[state]": "dark",
}


POST_ARGUMENTS = [
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
    "attribute[state]",
    "attribute[hazards][]",
    "attribute[count]",
    "attribute[seen_at]",
    "attribute[notes]",
    "attribute[pole]",
]


@st.composite
def submission(draw: st.DrawFn, keys: list[str]) -> dict[str, str | list[str]]:
    """Usually a valid request with some arguments spoiled, removed or added; sometimes pure noise."""
    fields: dict[str, str | list[str]] = dict(VALID) if draw(st.integers(0, 4)) else {}
    for name in draw(st.lists(st.sampled_from(sorted(VALID)), max_size=3, unique=True)):
        if draw(st.booleans()):
            fields.pop(name, None)
        else:
            fields[name] = draw(argument_values(name))
    fields.update(draw(arguments(POST_ARGUMENTS, most=4)))
    if draw(st.integers(0, 3)) == 0:  # the other forms of location, well or badly
        fields.pop("lat", None)
        fields.pop("long", None)
        fields[draw(st.sampled_from(["address_string", "address_id"]))] = draw(
            st.one_of(st.sampled_from(["坡子街街道八角亭社区", "430103002001001B01"]), hostile())
        )
    if draw(st.integers(0, 5)) == 0:
        fields["lat"], fields["long"] = str(YH_POINT[1]), str(YH_POINT[0])  # another jurisdiction's place
    key = draw(st.sampled_from(["valid"] * 4 + ["other", "busy", "none", "random"]))
    if key == "random":
        fields["api_key"] = draw(hostile())
    elif key != "none":
        fields["api_key"] = keys[["valid", "other", "busy"].index(key)]
    jurisdiction = draw(st.sampled_from(["430103"] * 4 + ["430111", "", "nowhere", "none"]))
    if jurisdiction != "none":
        fields["jurisdiction_id"] = jurisdiction
    return fields


ODD_TYPES = [
    "multipart/form-data",  # no boundary
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=xyz",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "application/x-www-form-urlencoded; charset=utf-8",
    "text/xml",
    "",
]


def _with_known_posts(key: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Known hostile posts, tried first every run: NUL and control characters where text is stored, a
    malformed multipart body, a non-UTF-8 form."""
    valid = {**VALID, "jurisdiction_id": "430103", "api_key": key}
    known: list[dict[str, Any]] = [
        {"fields": valid, "encoding": "form", "idempotency": None},  # taken in, whatever else is drawn
        {"fields": valid, "encoding": "form", "idempotency": "retry\x00"},
        {"fields": {**valid, "description": "a\x00b"}, "encoding": "multipart", "idempotency": None},
        {"fields": {**valid, "attribute[notes]": "\x00"}, "encoding": "form", "idempotency": None},
        {
            "fields": {**valid, "attribute[\x00]": "\x00", "device_id": "\x1b[31m"},
            "encoding": "multipart",
            "idempotency": None,
        },
        {"fields": {**valid, "lat": "9" * 5000}, "encoding": "form", "idempotency": None},
        {"fields": valid, "encoding": "odd", "odd_type": "multipart/form-data", "idempotency": None},
        {
            "fields": valid,
            "encoding": "odd",
            "odd_type": ODD_TYPES[3],
            "raw": b"\xff\xfe",
            "idempotency": None,
        },
    ]

    def decorate(run: Callable[..., None]) -> Callable[..., None]:
        for case in known:
            for fmt in FORMATS:
                run = example(**{"raw": b"", "odd_type": "", **case, "fmt": fmt})(run)
        return run

    return decorate


def test_post_survives_hostile_input_and_writes_all_or_nothing(fuzz: Fuzz) -> None:
    client = fuzz.o311.client
    outcomes: dict[int, int] = {}

    @fuzz_settings(EXAMPLES * 2)
    @given(
        fields=submission(fuzz.keys),
        fmt=st.sampled_from(FORMATS),
        encoding=st.sampled_from(["multipart", "multipart", "form", "form", "raw", "json", "odd"]),
        raw=st.binary(max_size=60),
        odd_type=st.sampled_from(ODD_TYPES),
        idempotency=st.one_of(
            st.none(),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
            st.text(max_size=70),
        ),
    )
    @_with_known_posts(fuzz.keys[0])
    def run(
        fields: dict[str, str | list[str]],
        fmt: str,
        encoding: str,
        raw: bytes,
        odd_type: str,
        idempotency: str | None,
    ) -> None:
        url = f"/open311/v2/requests.{fmt}"
        headers = {"Idempotency-Key": idempotency} if idempotency is not None else {}

        def call() -> None:
            before = row_counts()
            if encoding == "multipart":
                response = client.post(url, fields, headers=headers)
            elif encoding == "form":
                response = client.post(
                    url,
                    urlencode(list(_pairs(fields))),
                    content_type="application/x-www-form-urlencoded; charset=utf-8",
                    headers=headers,
                )
            elif encoding == "raw":  # a form body that is not UTF-8, after the arguments
                response = client.post(
                    url,
                    urlencode(list(_pairs(fields))).encode() + b"&" + raw,
                    content_type="application/x-www-form-urlencoded",
                    headers=headers,
                )
            elif encoding == "json":
                response = client.post(url, fields, content_type="application/json", headers=headers)
            else:  # a body as sent, under a content type that may not fit it (the client encodes nothing)
                form = urlencode(list(_pairs(fields))).encode()
                response = client.generic("POST", url, form + raw, content_type=odd_type, headers=headers)
            check_answer(response, fmt, "post")
            after = row_counts()
            outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
            if response.status_code == 200:
                assert after["Case"] == before["Case"] + 1, (before, after)
                assert after["ServiceRequest"] == before["ServiceRequest"] + 1, (before, after)
                assert ServiceRequest.objects.filter(case=Case.objects.latest("pk")).exists()
            else:
                assert after == before, (response.status_code, before, after)

        in_savepoint(call)

    run()
    # The fuzz reached both sides: requests taken in and requests refused.
    assert outcomes.get(200, 0) > 0, outcomes
    assert sum(n for status, n in outcomes.items() if status != 200) > 0, outcomes


def _pairs(fields: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    return [
        (name, one)
        for name, value in fields.items()
        for one in (value if isinstance(value, list) else [value])
    ]


# --- Anything else under /open311/ ---------------------------------------------------------------------------


def test_unknown_addresses_are_404_in_the_asked_format(fuzz: Fuzz) -> None:
    client = fuzz.o311.client

    @fuzz_settings(EXAMPLES // 2)
    @given(
        path=st.lists(segment(["v2", "services", "requests", "tokens", "discovery"]), min_size=1, max_size=4),
        fmt=st.sampled_from(FORMATS),
        verb=st.sampled_from(["get", "post", "put", "delete"]),
    )
    def run(path: list[str], fmt: str, verb: str) -> None:
        url = "/open311/" + "/".join(path) + f".{fmt}"

        def call() -> None:
            response = getattr(client, verb)(url)
            assert response.status_code < 500, (url, response.status_code)
            if response.status_code != 200:
                assert response.status_code in ANSWERED, (url, response.status_code)
                schemas.check(response, fmt, "errors")

        in_savepoint(call)

    run()
