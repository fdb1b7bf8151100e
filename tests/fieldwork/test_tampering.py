"""Tampering with the field screens: another district's case in the URL, another cell or building in a
form field, another person's visit in the hidden field. Always a 404 or a field error; nothing written."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.workflow import Status
from civicgrid.fieldwork.models import HouseholdVisit
from civicgrid.grids.actions import do_upsert_building
from civicgrid.grids.models import GridCell
from tests.cases.helpers import Catalog
from tests.fieldwork.helpers import YH_CELL, yh_case
from tests.fieldwork.test_permissions import VISIT
from tests.world import World


@pytest.fixture
def yh_replied(world: World, catalog: Catalog) -> Case:
    return yh_case(world, catalog)


def test_a_grid_worker_cannot_open_or_verify_another_districts_case(
    world: World, client_for: Callable[[str], Client], yh_replied: Case
) -> None:
    client = client_for("bjt_grid")
    events = CaseEvent.objects.filter(case=yh_replied).count()

    assert client.get(f"/field/tasks/{yh_replied.number}/").status_code == 404
    response = client.post(
        f"/field/tasks/{yh_replied.number}/verify/",
        {"passed": "false", "note": "没修好", "version": yh_replied.version},
    )
    assert response.status_code == 404
    assert client.get("/field/tasks/").content.decode().count(yh_replied.number) == 0

    yh_replied.refresh_from_db()
    assert yh_replied.status == Status.REPLIED
    assert CaseEvent.objects.filter(case=yh_replied).count() == events


def test_a_grid_worker_cannot_log_a_visit_in_a_cell_that_is_not_theirs(
    world: World, client_for: Callable[[str], Client]
) -> None:
    client = client_for("bjt_grid")
    response = client.post("/field/visits/new/", {**VISIT, "grid_cell": YH_CELL})

    assert response.status_code == 422
    form = response.context["form"]
    assert list(form.errors) == ["grid_cell"]
    assert HouseholdVisit.objects.count() == 0
    html = response.content.decode()
    assert 'id="id_grid_cell_error"' in html
    assert "八角亭1栋2单元301室" in html  # what was typed is still there


def test_a_building_of_another_cell_is_refused(world: World, client_for: Callable[[str], Client]) -> None:
    other, _ = do_upsert_building(
        code="430111001001001B01",
        name="梓园1栋",
        grid_cell=GridCell.objects.get(code=YH_CELL),
        household_count=10,
        head=None,
        actor=None,
    )
    response = client_for("bjt_grid").post("/field/visits/new/", {**VISIT, "building": other.code})

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["building"]
    assert HouseholdVisit.objects.count() == 0


@pytest.mark.parametrize(
    "url", [f"/field/?cell={YH_CELL}", f"/field/report/?cell={YH_CELL}", f"/field/visits/new/?cell={YH_CELL}"]
)
def test_another_districts_cell_in_the_address_is_not_found(
    world: World, client_for: Callable[[str], Client], url: str
) -> None:
    assert client_for("bjt_grid").get(url).status_code == 404
