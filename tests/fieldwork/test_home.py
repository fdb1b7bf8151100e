"""My grid: the cell with its open cases, as map data and as a list; the cell picker; no cell at all."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.test import Client

from civicgrid.accounts.actions import do_create_staff, do_grant_role
from civicgrid.accounts.models import Role
from civicgrid.cases.workflow import Status
from tests.cases.helpers import Catalog
from tests.fieldwork.helpers import BJT_CELL, YH_CELL, bjt_case, yh_case
from tests.world import PASSWORD, World


def map_data(html: str) -> Any:
    """The JSON the page hands to its map script."""
    found = re.search(r'<script id="field-map-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_my_grid_shows_the_open_cases_of_my_cell(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    received = bjt_case(world, catalog, Status.RECEIVED)
    replied = bjt_case(world, catalog, Status.REPLIED)
    closed = bjt_case(world, catalog, Status.RESOLVED)
    elsewhere = yh_case(world, catalog, Status.HANDLING)

    response = client_for("bjt_grid").get("/field/")
    html = response.content.decode()

    assert response.status_code == 200
    listed = set(re.findall(r'href="/field/tasks/([0-9-]+)/"', html))
    assert listed == {received.number, replied.number}  # open ones only, in my cell only
    assert closed.number not in html
    assert elsewhere.number not in html
    data = map_data(html)
    cells = data["cells"]
    assert [c["code"] for c in cells] == [BJT_CELL]
    assert cells[0]["boundary"]["type"] == "Polygon"
    points = data["cases"]
    assert {p["number"] for p in points} == {received.number, replied.number}
    assert all(p["lon"] == 112.91 and p["lat"] == 28.11 for p in points)
    assert 'class="stat alert" href="/field/tasks/"><strong>1</strong>' in html  # one reply to verify


def test_a_title_with_markup_is_shown_as_text(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    case = bjt_case(world, catalog, Status.RECEIVED)
    case.__class__.objects.filter(pk=case.pk).update(title="<script>alert(1)</script>")
    html = client_for("bjt_grid").get("/field/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E" in html  # json_script escapes it


def test_a_superuser_picks_any_cell(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    client = client_for("root")
    first = client.get("/field/").content.decode()
    assert 'id="cell-picker"' in first  # works several cells: the picker is offered
    assert f'<option value="{BJT_CELL}" selected>' in first
    other = client.get(f"/field/?cell={YH_CELL}").content.decode()
    assert [c["code"] for c in map_data(other)["cells"]] == [YH_CELL]
    assert client.get("/field/?cell=999").status_code == 404


def test_a_grid_worker_without_a_cell_is_told(world: World, client_for: Callable[[str], Client]) -> None:
    newcomer = do_create_staff(
        username="xpl_grid", full_name="xpl_grid", phone="13900000099", password=PASSWORD, actor=None
    )
    do_grant_role(newcomer, role=Role.GRID_WORKER, jurisdiction=world.j("430103002002"), actor=None)
    world.users["xpl_grid"] = newcomer

    response = client_for("xpl_grid").get("/field/")
    assert response.status_code == 200
    assert response.context["cell"] is None
    assert 'class="notice"' in response.content.decode()
    assert client_for("xpl_grid").get("/field/visits/new/").status_code == 200
