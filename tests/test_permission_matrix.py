"""Every staff URL and API endpoint × every persona (one per role and level) × targets inside and outside
the persona's jurisdiction. The expected answer comes from ORACLE below, a restatement of the rules in
docs/architecture.md written independently of civicgrid.accounts.permissions, so a bug there shows here.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from tests.world import PERSONAS, TREE, UNITS, World

# What each role may do (restated from docs/architecture.md, not imported).
CAN_VIEW_STAFF = {"grid_leader", "leader", "dispatcher", "supervisor", "administrator"}
CAN_UNMASK = {"dispatcher", "supervisor", "administrator"}
CAN_ADMINISTER = {"administrator"}
# The roles that open the case screens (docs/ui.md, "Who sees which screen").
OPENS_CASES = {
    "window_clerk",
    "intake_operator",
    "grid_leader",
    "dispatcher",
    "handler",
    "mediator",
    "supervisor",
    "leader",
}

PARENT = {code: parent for code, _, _, parent, _ in TREE}
UNIT_JURISDICTION = {code: where for code, _, _, where in UNITS}


def path_of(code: str) -> str:
    chain = [code]
    while PARENT[chain[-1]]:
        chain.append(PARENT[chain[-1]])  # type: ignore[arg-type]
    return "/".join(reversed(chain)) + "/"


@dataclass(frozen=True)
class Who:
    username: str
    role: str | None
    superuser: bool
    path: str | None  # the subtree of the persona's grant
    unit: str | None


WHO = {
    p.username: Who(
        username=p.username,
        role=str(p.role) if p.role else None,
        superuser=p.superuser,
        path=path_of(p.jurisdiction or UNIT_JURISDICTION[p.unit or ""])
        if (p.jurisdiction or p.unit)
        else None,
        unit=p.unit,
    )
    for p in PERSONAS
}
STAFF_HOME = {
    p.username: (p.jurisdiction or (UNIT_JURISDICTION[p.unit] if p.unit else None), p.unit) for p in PERSONAS
}


def sees_area(who: Who, code: str) -> bool:
    return who.superuser or (who.path is not None and path_of(code).startswith(who.path))


def sees_staff(who: Who, username: str, roles: set[str]) -> bool:
    if who.superuser:
        return True
    if who.role not in roles or who.path is None:
        return False
    home, unit = STAFF_HOME[username]
    if home is None:
        return False  # accounts without a grant are visible to superusers only
    if who.unit is not None:
        return unit == who.unit
    return path_of(home).startswith(who.path)


# --- cases (restated from the docstrings of permissions.py / visible_cases, not imported) ----------------------

# Unit-bound roles see only the cases their unit was given (ever); everyone else sees cases located in, or
# owned by a level in, their subtree; creators see what they took in; superusers see everything.
CASES_BY_UNIT = {"handler", "mediator"}
# Roles that call residents back (intake, dispatch, handle, revisit, supervise) may unmask the phone of a
# case they hold a capability over — a unit role only while its unit is assigned now.
CAN_CONTACT_RESIDENT = {
    "window_clerk",
    "intake_operator",
    "grid_leader",
    "dispatcher",
    "handler",
    "mediator",
    "supervisor",
    "leader",
}


@dataclass(frozen=True)
class CaseSpec:
    title: str
    origin: str  # the community where it happened
    level: str  # the jurisdiction whose desk owns it
    creator: str
    units: frozenset[str]  # units ever given the case
    current_units: frozenset[str]  # units holding it now


# Built by the matrix_cases fixture through the actions (by these personas), in the shared world.
MATRIX_CASES = {
    # 八角亭, taken in by the 天心区 hotline, dispatched to 天心区城管 and signed for: "handling".
    "bjt": CaseSpec(
        "矩阵：八角亭路面塌陷",
        "430103002001",
        "430103",
        "tx_hotline",
        frozenset({"430103-cg"}),
        frozenset({"430103-cg"}),
    ),
    # 梓园 (雨花区), taken in and dispatched by 雨花区's dispatcher: "dispatched".
    "yh": CaseSpec(
        "矩阵：梓园占道经营",
        "430111001001",
        "430111",
        "yh_dispatcher",
        frozenset({"430111-cg"}),
        frozenset({"430111-cg"}),
    ),
}


def _holds_case(who: Who, spec: CaseSpec, units: frozenset[str]) -> bool:
    if who.path is None:
        return False
    if who.role in CASES_BY_UNIT and who.unit is not None:
        return who.unit in units
    return path_of(spec.origin).startswith(who.path) or path_of(spec.level).startswith(who.path)


def sees_case(who: Who, key: str) -> bool:
    spec = MATRIX_CASES[key]
    return who.superuser or who.username == spec.creator or _holds_case(who, spec, spec.units)


def may_reveal_phone(who: Who, key: str) -> bool:
    spec = MATRIX_CASES[key]
    if who.superuser:
        return True
    return who.role in CAN_CONTACT_RESIDENT and _holds_case(who, spec, spec.current_units)


def case_rule(key: str, rule: Callable[[Who, str], bool]) -> Callable[[Who], bool]:
    def allowed(who: Who) -> bool:
        return rule(who, key)

    return allowed


# A body each action route accepts (the matrix proves scope, not the actions: those are tests/cases/).
ACTION_BODIES: dict[str, dict[str, Any]] = {
    "answer_directly": {"answer": "答复"},
    "request_confirmation": {},
    "register": {"category": "010101"},
    "void": {"reason": "矩阵"},
    "merge": {"master": "430100-2000-000000"},
    "split": {
        "parts": [
            {"title": "一", "description": "一", "category": "010101"},
            {"title": "二", "description": "二", "category": "010101"},
        ]
    },
    "dispatch": {"lead_unit": "430103-cg"},
    "accept": {},
    "request_return": {"reason": "矩阵"},
    "approve_return": {},
    "reject_return": {"note": "矩阵"},
    "assign_down": {"to": "430103002"},
    "escalate": {"reason": "矩阵"},
    "request_extension": {"amount": "1", "reason": "矩阵"},
    "decide_extension": {"request": 1, "approve": True},
    "await_resident": {"note": "矩阵"},
    "resident_responded": {},
    "suspend": {"reason": "矩阵"},
    "resume": {},
    "complete_milestone": {"seq": 0},
    "assist_accept": {"assignment": 1},
    "assist_return": {"assignment": 1, "reason": "矩阵"},
    "assist_reply": {"assignment": 1, "reply": "矩阵"},
    "supervise": {"opinion": "矩阵"},
    "urge": {},
    "reply": {"reply": "矩阵"},
    "verify": {"passed": True},
    "revisit": {"channel": "phone", "satisfaction": "satisfied", "resolution": "resolved"},
    "reopen": {"reason": "矩阵"},
    "force_close": {"reason": "矩阵"},
    "withdraw": {"reason": "矩阵"},
    "archive": {},
}


@pytest.fixture(scope="module")
def matrix_cases(shared_world: World, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    """The MATRIX_CASES, made through the actions inside the shared world's module transaction (rolled
    back with it). Returns key → case number."""
    from civicgrid.cases import actions, limits
    from tests.cases.helpers import BJT_POINT, YH_POINT, build_catalog, new_case

    w = shared_world
    with django_db_blocker.unblock():
        catalog = build_catalog()
        bjt = new_case(w, actor="tx_hotline", point=BJT_POINT, title=MATRIX_CASES["bjt"].title)
        actions.do_register(bjt, category=catalog.road, actor=w.u("tx_hotline"))
        actions.do_dispatch(bjt, lead=w.units["430103-cg"], actor=w.u("tx_dispatcher"))
        actions.do_accept(bjt, actor=w.u("tx_cg_handler"))
        yh = new_case(w, actor="yh_dispatcher", point=YH_POINT, title=MATRIX_CASES["yh"].title)
        actions.do_register(yh, category=catalog.road, actor=w.u("yh_dispatcher"))
        actions.do_dispatch(yh, lead=w.units["430111-cg"], actor=w.u("yh_dispatcher"))
    yield {"bjt": bjt.number, "yh": yh.number}
    limits.invalidate()  # the catalogue's limits go with the module's transaction


def case_url(template: str, key: str) -> Callable[[World], str]:
    """A URL naming a MATRIX_CASES case by its number (known once the fixture has made it)."""

    def build(world: World) -> str:
        from civicgrid.cases.models import Case as CaseRow

        return template.format(number=CaseRow.objects.get(title=MATRIX_CASES[key].title).number)

    return build


# --- the URLs ----------------------------------------------------------------------------------------------

AREA_TARGETS = ["430100", "430103", "430103002", "430103002001", "430103004001", "430111", "430111001001"]
STAFF_TARGETS = ["tx_cg_handler", "bjt_grid", "pzj_window", "yh_cg_handler"]
CELL_POINTS = {"430103002001": (112.91, 28.11), "430111001001": (113.11, 28.11)}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[World], str]
    allowed: Callable[[Who], bool]
    ok: tuple[int, ...] = (200,)
    denied: tuple[int, ...] = (403, 404)
    body: dict[str, Any] | None = None  # sent as JSON (the case API); other POSTs send a form


def url_of(template: str, **keys: str) -> Callable[[World], str]:
    """A URL from a template; {pk:username}, {jpk:code}, {upk:unit} and {cpk:cell} become primary keys."""

    def build(world: World) -> str:
        values: dict[str, object] = dict(keys)
        if "user" in keys:
            values["pk"] = world.u(keys["user"]).pk
        if "code" in keys:
            values["jpk"] = world.j(keys["code"]).pk
        if "unit" in keys:
            values["upk"] = world.units[keys["unit"]].pk
        if "cell" in keys:
            values["cpk"] = world.cells[keys["cell"]].pk
        return template.format(**values)

    return build


def area_rule(code: str, *, admin: bool = False) -> Callable[[Who], bool]:
    def allowed(who: Who) -> bool:
        return (not admin or who.superuser or who.role in CAN_ADMINISTER) and sees_area(who, code)

    return allowed


def staff_rule(username: str, roles: set[str]) -> Callable[[Who], bool]:
    def allowed(who: Who) -> bool:
        return sees_staff(who, username, roles)

    return allowed


def role_rule(roles: set[str]) -> Callable[[Who], bool]:
    def allowed(who: Who) -> bool:
        return who.superuser or who.role in roles

    return allowed


# The admin site: administrators inside their subtree. Outside objects redirect to the admin index
# ("doesn't exist"), non-administrators are sent to the admin login.
ADMIN_DENIED = (302, 403, 404)
CASES: list[Case] = [
    Case("home", "GET", url_of("/"), lambda who: True),
    Case("staff-list", "GET", url_of("/staff/"), role_rule(CAN_VIEW_STAFF)),
    Case("admin-index", "GET", url_of("/admin/"), role_rule(CAN_ADMINISTER), denied=ADMIN_DENIED),
]
for code in AREA_TARGETS:
    for name, template in [
        ("map", "/map/?j={code}"),
        ("tree", "/map/tree/{code}/"),
        ("api-jurisdiction", "/api/v1/jurisdictions/{code}"),
        ("api-boundaries", "/api/v1/jurisdictions/{code}/boundaries.geojson"),
        ("api-cells", "/api/v1/jurisdictions/{code}/grid-cells.geojson"),
    ]:
        CASES.append(Case(f"{name}[{code}]", "GET", url_of(template, code=code), area_rule(code)))
for community, (lon, lat) in CELL_POINTS.items():
    CASES.append(
        Case(
            f"api-locate[{community}]",
            "GET",
            url_of(f"/api/v1/grid-cells/locate?lon={lon}&lat={lat}"),
            area_rule(community),
        )
    )
for target in STAFF_TARGETS:
    CASES += [
        Case(
            f"staff-detail[{target}]",
            "GET",
            url_of("/staff/{pk}/", user=target),
            staff_rule(target, CAN_VIEW_STAFF),
        ),
        Case(
            f"reveal-phone[{target}]",
            "POST",
            url_of("/staff/{pk}/phone/", user=target),
            staff_rule(target, CAN_UNMASK),
        ),
        Case(
            f"admin-staff[{target}]",
            "GET",
            url_of("/admin/accounts/user/{pk}/change/", user=target),
            staff_rule(target, CAN_ADMINISTER),
            denied=ADMIN_DENIED,
        ),
    ]
for code in ["430103", "430103002001", "430111", "430111001001"]:
    CASES.append(
        Case(
            f"admin-jurisdiction[{code}]",
            "GET",
            url_of("/admin/jurisdictions/jurisdiction/{jpk}/change/", code=code),
            area_rule(code, admin=True),
            denied=ADMIN_DENIED,
        )
    )
for unit_code in ["430103-cg", "430111-cg"]:
    CASES.append(
        Case(
            f"admin-unit[{unit_code}]",
            "GET",
            url_of("/admin/jurisdictions/unit/{upk}/change/", unit=unit_code),
            area_rule(UNIT_JURISDICTION[unit_code], admin=True),
            denied=ADMIN_DENIED,
        )
    )
for cell_code in ["430103002001001", "430111001001001"]:
    CASES.append(
        Case(
            f"admin-gridcell[{cell_code}]",
            "GET",
            url_of("/admin/grids/gridcell/{cpk}/change/", cell=cell_code),
            area_rule(cell_code[:12], admin=True),
            denied=ADMIN_DENIED,
        )
    )

CASES.append(Case("api-cases", "GET", url_of("/api/v1/cases"), lambda who: True))
for key in MATRIX_CASES:
    CASES += [
        Case(
            f"api-case[{key}]",
            "GET",
            case_url("/api/v1/cases/{number}", key),
            case_rule(key, sees_case),
            denied=(404,),  # never a 403: whether the case exists is not leaked
        ),
        Case(
            f"api-case-phone[{key}]",
            "POST",
            case_url("/api/v1/cases/{number}/reveal-phone", key),
            case_rule(key, may_reveal_phone),
            body={"purpose": "matrix test"},
        ),
    ]

# The case list's export: behind the case screens (403 otherwise); what each file holds is tested below.
for fmt in ("csv", "xlsx"):
    CASES.append(
        Case(
            f"cases-export-{fmt}",
            "GET",
            url_of(f"/cases/export.{fmt}"),
            role_rule(OPENS_CASES),
            denied=(403,),
        )
    )

USERNAMES = [p.username for p in PERSONAS]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("username", USERNAMES)
def test_access(
    shared_world: World,
    matrix_cases: dict[str, str],
    shared_client_for: Callable[[str], Client],
    username: str,
    case: Case,
) -> None:
    client = shared_client_for(username)
    url = case.url(shared_world)
    if case.method == "GET":
        response = client.get(url)
    elif case.body is not None:
        response = client.post(url, json.dumps(case.body), content_type="application/json")
    else:
        response = client.post(url, {"purpose": "matrix test"})
    if case.allowed(WHO[username]):
        assert response.status_code in case.ok, (
            f"{username} should reach {url}, got {response.status_code} {response.content[:300]!r}"
        )
    else:
        assert response.status_code in case.denied, (
            f"{username} must not reach {url}, got {response.status_code}"
        )
        if response.status_code == 302:
            # Denied admin pages send you to the admin login or the admin index, never to the object.
            assert response["Location"].split("?")[0] in ("/admin/", "/admin/login/"), response["Location"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_anonymous_is_turned_away(
    shared_world: World, matrix_cases: dict[str, str], db: None, case: Case
) -> None:
    url = case.url(shared_world)
    response = Client().post(url) if case.method == "POST" else Client().get(url)
    if url.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "login" in response["Location"]


def _leaves(pattern: Any, prefix: str = "") -> set[str]:
    """Every route under ``pattern``, through includes of includes (civicgrid/triage/urls.py has them)."""
    route = prefix + str(pattern.pattern)
    inner = getattr(pattern, "url_patterns", None)
    if inner is None:
        return {route}
    return set().union(*(_leaves(p, route) for p in inner)) if inner else set()


def test_matrix_covers_every_url() -> None:
    """A new URL must join the matrix: every route under the staff and API prefixes is named here."""
    from django.urls import get_resolver

    covered = {"", "map/", "map/tree/<str:code>/", "staff/", "staff/<int:pk>/", "staff/<int:pk>/phone/"}
    # The role screens' routes are declared by their own matrix tests, in tests/<app>/routes.py (COVERED).
    for routes in sorted(Path(__file__).parent.glob("*/routes.py")):
        module = importlib.import_module(f"tests.{routes.parent.name}.routes")
        covered |= set(module.COVERED)
    api_covered = {
        "jurisdictions/<code>",
        "jurisdictions/<code>/boundaries.geojson",
        "jurisdictions/<code>/grid-cells.geojson",
        "grid-cells/locate",
    }
    api_covered |= {"cases", "cases/<number>", "cases/<number>/reveal-phone"}
    api_covered |= {f"cases/<number>/actions/{action}" for action in ACTION_BODIES}
    public = {
        "accounts/",
        "i18n/",
        "admin/",
        "api/openapi.json",
        "api/docs",
    }  # login/logout/password (own tests), language switch, admin (above), the API's public docs
    found: set[str] = set()
    api_found: set[str] = set()
    for pattern in get_resolver().url_patterns:
        prefix = str(pattern.pattern)
        if prefix in public:
            continue
        if prefix == "api/v1/":
            for sub in getattr(pattern, "url_patterns", []):
                for leaf in getattr(sub, "url_patterns", [sub]):
                    route = str(leaf.pattern)
                    if route not in {"", "openapi.json", "docs"}:
                        api_found.add(route)
            continue
        found |= _leaves(pattern)
    assert found == covered
    assert api_found == api_covered


def _post_json(client: Client, url: str, body: dict[str, Any]) -> Any:
    # Each action runs in a savepoint that is rolled back, so every route sees the case as the fixture
    # left it (and one request per route keeps this to one test per persona and case, not 64).
    with transaction.atomic():
        response = client.post(url, json.dumps(body), content_type="application/json")
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("key", list(MATRIX_CASES))
@pytest.mark.parametrize("username", USERNAMES)
def test_case_action_routes(
    matrix_cases: dict[str, str], shared_client_for: Callable[[str], Client], username: str, key: str
) -> None:
    """Whoever sees the case reaches every action route (the action then decides: done, 403, 409 or 422);
    whoever does not gets a 404 from every one of them — nobody acts on another jurisdiction's case."""
    client = shared_client_for(username)
    visible = sees_case(WHO[username], key)
    for action, body in ACTION_BODIES.items():
        url = f"/api/v1/cases/{matrix_cases[key]}/actions/{action}"
        response = _post_json(client, url, body)
        if visible:
            assert response.status_code in (200, 403, 409, 422), (username, action, response.content[:300])
        else:
            assert response.status_code == 404, (username, action, response.content[:300])


@pytest.mark.parametrize("key", list(MATRIX_CASES))
def test_case_action_routes_turn_anonymous_away(matrix_cases: dict[str, str], db: None, key: str) -> None:
    for action in ACTION_BODIES:
        response = Client().post(f"/api/v1/cases/{matrix_cases[key]}/actions/{action}")
        assert response.status_code == 401, action


def test_every_case_action_has_a_matrix_body() -> None:
    from civicgrid.cases.workflow import Action

    assert set(ACTION_BODIES) == {a.value for a in Action} - {"create"}


@pytest.mark.parametrize("username", USERNAMES)
def test_case_list_shows_exactly_the_visible_cases(
    matrix_cases: dict[str, str], shared_client_for: Callable[[str], Client], username: str
) -> None:
    response = shared_client_for(username).get("/api/v1/cases?limit=200")
    assert response.status_code == 200
    listed = {c["number"] for c in response.json()["items"]}
    expected = {number for key, number in matrix_cases.items() if sees_case(WHO[username], key)}
    assert listed == expected


@pytest.mark.parametrize("username", [u for u in USERNAMES if WHO[u].superuser or WHO[u].role in OPENS_CASES])
def test_case_export_holds_exactly_the_visible_cases(
    matrix_cases: dict[str, str], shared_client_for: Callable[[str], Client], username: str
) -> None:
    """Both files of the whole list ("all", no filter) hold exactly the cases the persona may see."""
    client = shared_client_for(username)
    expected = {number for key, number in matrix_cases.items() if sees_case(WHO[username], key)}
    text = client.get("/cases/export.csv?queue=all").getvalue().decode("utf-8-sig")
    assert {row[0] for row in list(csv.reader(io.StringIO(text)))[1:]} == expected
    book = load_workbook(io.BytesIO(client.get("/cases/export.xlsx?queue=all").getvalue()))
    assert {row[0] for row in list(book.worksheets[0].iter_rows(values_only=True))[1:]} == expected


@pytest.mark.parametrize(
    ("username", "visible", "hidden"),
    [
        ("tx_leader", {"tx_cg_handler", "bjt_grid", "pzj_window"}, {"yh_cg_handler", "yh_admin", "nobody"}),
        ("tx_supervisor", {"tx_supervisor"}, {"tx_cg_handler", "bjt_grid", "yh_cg_handler"}),
        ("bjt_leader", {"bjt_grid", "bjt_building"}, {"tx_cg_handler", "pzj_window", "yh_cg_handler"}),
        ("yh_admin", {"yh_cg_handler"}, {"tx_cg_handler", "bjt_grid"}),
    ],
)
def test_staff_list_shows_only_own_jurisdiction(
    shared_client_for: Callable[[str], Client], username: str, visible: set[str], hidden: set[str]
) -> None:
    html = shared_client_for(username).get("/staff/").content.decode()
    for name in visible:
        assert f">{name}<" in html
    for name in hidden:
        assert f">{name}<" not in html


def test_cell_geojson_lists_only_visible_cells(shared_client_for: Callable[[str], Client]) -> None:
    client_for = shared_client_for
    root = client_for("root").get("/api/v1/jurisdictions/430100/grid-cells.geojson").json()
    city = client_for("cs_dispatcher").get("/api/v1/jurisdictions/430100/grid-cells.geojson").json()
    assert {f["properties"]["code"] for f in root["features"]} == {"430103002001001", "430111001001001"}
    assert root == city
    district = client_for("tx_leader").get("/api/v1/jurisdictions/430103/grid-cells.geojson").json()
    assert [f["properties"]["code"] for f in district["features"]] == ["430103002001001"]
    assert district["features"][0]["properties"]["workers"] == ["bjt_grid"]


def test_admin_changelists_are_scoped(shared_client_for: Callable[[str], Client]) -> None:
    client_for = shared_client_for
    html = client_for("tx_admin").get("/admin/jurisdictions/jurisdiction/").content.decode()
    assert "天心区" in html
    assert "雨花区" not in html
    assert "梓园社区" not in html
    html = client_for("tx_admin").get("/admin/accounts/user/").content.decode()
    assert "tx_cg_handler" in html
    assert "yh_cg_handler" not in html
    assert "yh_admin" not in html
