"""The household visit log: logging a visit (form and action), who reads which visits, filters, and bad
input answered at the field with what was typed kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from civicgrid.fieldwork.actions import do_log_household_visit
from civicgrid.fieldwork.models import HouseholdVisit
from civicgrid.grids.models import Building, GridCell
from civicgrid.lib import clock
from tests.fieldwork.helpers import BJT_CELL, YH_CELL
from tests.world import World

BUILDING = "430103002001001B01"


def visit_form(**overrides: str) -> dict[str, str]:
    data = {
        "grid_cell": BJT_CELL,
        "building": BUILDING,
        "address": "2单元301室",
        "household_head": "王秀英",
        "visited_at": timezone.localtime(clock.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "purpose": "safety_check",
        "findings": "燃气软管老化，建议更换。",
        "needs_follow_up": "on",
    }
    data.update(overrides)
    return data


def log(world: World, username: str, **extra: object) -> HouseholdVisit:
    values: dict[str, object] = {
        "grid_cell": GridCell.objects.get(code=BJT_CELL),
        "address": f"{username}走访的住户",
        "visited_at": clock.now() - timedelta(days=1),
        "purpose": "routine",
        "findings": "情况正常",
        **extra,
    }
    return do_log_household_visit(actor=world.u(username), **values)  # type: ignore[arg-type]


def test_a_grid_worker_logs_a_visit(world: World, client_for: Callable[[str], Client]) -> None:
    client = client_for("bjt_grid")
    form = client.get(f"/field/visits/new/?cell={BJT_CELL}").content.decode()
    assert f'<option value="{BJT_CELL}" selected>' in form

    response = client.post("/field/visits/new/", visit_form())

    assert response.status_code == 303
    assert response["Location"] == "/field/visits/"
    visit = HouseholdVisit.objects.get()
    assert visit.by == world.u("bjt_grid")
    assert visit.building == Building.objects.get(code=BUILDING)
    assert (visit.purpose, visit.needs_follow_up, visit.household_head) == ("safety_check", True, "王秀英")
    listing = client.get("/field/visits/").content.decode()
    assert "燃气软管老化，建议更换。" in listing
    assert f"?visit={visit.pk}" in listing  # report an event from it


def test_a_visit_without_findings_keeps_what_was_typed(
    world: World, client_for: Callable[[str], Client]
) -> None:
    response = client_for("bjt_grid").post("/field/visits/new/", visit_form(findings=""))

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["findings"]
    html = response.content.decode()
    assert 'id="id_findings_error"' in html
    assert 'value="2单元301室"' in html
    assert 'value="王秀英"' in html
    assert 'value="safety_check" required id="id_purpose_3" checked>' in html
    assert HouseholdVisit.objects.count() == 0


def test_a_visit_in_the_future_is_refused_at_the_time(
    world: World, client_for: Callable[[str], Client]
) -> None:
    tomorrow = timezone.localtime(clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for("bjt_grid").post("/field/visits/new/", visit_form(visited_at=tomorrow))

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["visited_at"]
    assert HouseholdVisit.objects.count() == 0


def test_the_action_checks_the_cell_the_building_and_the_visitor(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        log(world, "bjt_grid", grid_cell=GridCell.objects.get(code=YH_CELL))
    assert list(refused.value.message_dict) == ["grid_cell"]
    with pytest.raises(ValidationError) as refused:
        log(world, "tx_leader")  # sees the cell on the map, but does not work it
    assert list(refused.value.message_dict) == ["grid_cell"]
    with pytest.raises(PermissionDenied):
        log(world, "bjt_grid", visitor=world.u("bjt_leader"))
    assert HouseholdVisit.objects.count() == 0

    by_system = do_log_household_visit(
        grid_cell=GridCell.objects.get(code=YH_CELL),
        address="梓园1栋101室",
        visited_at=clock.now(),
        purpose="routine",
        findings="情况正常",
        visitor=world.u("root"),
        actor=None,
    )
    assert by_system.by == world.u("root")
    assert log(world, "bjt_building").grid_cell.code == BJT_CELL  # the cell of the building they head


def test_who_reads_which_visits(world: World, client_for: Callable[[str], Client]) -> None:
    mine = log(world, "bjt_grid")
    leaders = log(world, "bjt_leader")
    heads = log(world, "bjt_building")

    def listed(username: str) -> set[int]:
        page = client_for(username).get("/field/visits/").context["page"]
        return {v.pk for v in page.object_list}

    # The cell's team reads its whole log; a building head (a volunteer) only their own visits.
    assert listed("bjt_grid") == {mine.pk, leaders.pk, heads.pk}
    assert listed("bjt_leader") == {mine.pk, leaders.pk, heads.pk}
    assert listed("bjt_building") == {heads.pk}


def test_the_log_filters_by_building_and_purpose(world: World, client_for: Callable[[str], Client]) -> None:
    building = Building.objects.get(code=BUILDING)
    at_building = log(world, "bjt_grid", building=building, purpose="safety_check")
    elsewhere = log(world, "bjt_grid", purpose="dispute_screening")
    client = client_for("bjt_grid")

    def listed(query: str) -> list[int]:
        return [v.pk for v in client.get(f"/field/visits/?{query}").context["page"].object_list]

    assert listed("") == [elsewhere.pk, at_building.pk]  # newest first
    assert listed(f"building={BUILDING}") == [at_building.pk]
    assert listed("purpose=dispute_screening") == [elsewhere.pk]
    tampered = client.get("/field/visits/?building=430111001001001B01")
    assert tampered.status_code == 200
    assert "building" in tampered.context["filters"].errors
