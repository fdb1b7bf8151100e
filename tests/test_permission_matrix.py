"""Every staff URL and API endpoint × every persona (one per role and level) × targets inside and outside
the persona's jurisdiction. The expected answer comes from ORACLE below, a restatement of the rules in
docs/architecture.md written independently of civicgrid.accounts.permissions, so a bug there shows here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from tests.world import PERSONAS, TREE, UNITS, World

# What each role may do (restated from docs/architecture.md, not imported).
CAN_VIEW_STAFF = {"grid_leader", "leader", "dispatcher", "supervisor", "administrator"}
CAN_UNMASK = {"dispatcher", "supervisor", "administrator"}
CAN_ADMINISTER = {"administrator"}

PARENT = {code: parent for code, _, _, parent, _ in TREE}
UNIT_JURISDICTION = {code: where for code, _, _, where in UNITS}


def path_of(code: str) -> str:
    chain = [code]
    while PARENT[chain[-1]]:
        chain.append(PARENT[chain[-1]])  # type: ignore[arg-type]
    return "/".join(reversed(chain)) + "/"


@dataclass(frozen=True)
class Who:
    role: str | None
    superuser: bool
    path: str | None  # the subtree of the persona's grant
    unit: str | None


WHO = {
    p.username: Who(
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
    ok: int = 200
    denied: tuple[int, ...] = (403, 404)


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

USERNAMES = [p.username for p in PERSONAS]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("username", USERNAMES)
def test_access(
    shared_world: World, shared_client_for: Callable[[str], Client], username: str, case: Case
) -> None:
    client = shared_client_for(username)
    url = case.url(shared_world)
    data = {"purpose": "matrix test"} if case.method == "POST" else None
    response = client.post(url, data) if case.method == "POST" else client.get(url)
    if case.allowed(WHO[username]):
        assert response.status_code == case.ok, f"{username} should reach {url}, got {response.status_code}"
    else:
        assert response.status_code in case.denied, (
            f"{username} must not reach {url}, got {response.status_code}"
        )
        if response.status_code == 302:
            # Denied admin pages send you to the admin login or the admin index, never to the object.
            assert response["Location"].split("?")[0] in ("/admin/", "/admin/login/"), response["Location"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_anonymous_is_turned_away(shared_world: World, db: None, case: Case) -> None:
    url = case.url(shared_world)
    response = Client().post(url) if case.method == "POST" else Client().get(url)
    if url.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "login" in response["Location"]


def test_matrix_covers_every_url() -> None:
    """A new URL must join the matrix: every route under the staff and API prefixes is named here."""
    from django.urls import get_resolver

    covered = {"", "map/", "map/tree/<str:code>/", "staff/", "staff/<int:pk>/", "staff/<int:pk>/phone/"}
    api_covered = {
        "jurisdictions/<code>",
        "jurisdictions/<code>/boundaries.geojson",
        "jurisdictions/<code>/grid-cells.geojson",
        "grid-cells/locate",
    }
    public = {
        "accounts/",
        "i18n/",
        "admin/",
    }  # login/logout/password (own tests), language switch, admin (above)
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
        for leaf in getattr(pattern, "url_patterns", [pattern]):
            found.add(prefix + str(leaf.pattern))
    assert found == covered
    assert api_found == api_covered


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
