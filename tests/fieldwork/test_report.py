"""Reporting an event from the street: the case it becomes, where it is placed, photos, the idempotency key,
reporting from a household visit, and bad input answered at the field with what was typed kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.cases.models import Case, CasePhoto
from civicgrid.fieldwork.actions import do_log_household_visit, do_report_event
from civicgrid.fieldwork.models import HouseholdVisit
from civicgrid.grids.models import GridCell
from civicgrid.lib import clock
from tests.cases.helpers import YH_POINT, Catalog
from tests.fieldwork.helpers import BJT_CELL, YH_CELL, tiny_png
from tests.world import World

pytestmark = pytest.mark.usefixtures("catalog")


def report(catalog: Catalog, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": catalog.road.code,
        "title": "人行道井盖松动",
        "description": "八角亭路口人行道井盖松动，踩上去晃动。",
        "lon": "112.91",
        "lat": "28.11",
        "address": "八角亭路口",
        "cell": BJT_CELL,
        "nature": "report",
        "urgency": "normal",
        "intake_key": "field:test-1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def photo(name: str = "现场.png", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_png() if content is None else content, content_type="image/png")


def test_a_grid_worker_reports_an_event_with_a_photo_and_gps(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    client = client_for("bjt_grid")
    page = client.get("/field/report/").content.decode()
    key = re.search(r'name="intake_key" value="(field:[0-9a-f]{32})"', page)
    assert key is not None, "the form carries a fresh idempotency key"

    response = client.post("/field/report/", report(catalog, intake_key=key.group(1), photo_1=photo()))

    case = Case.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/field/report/{case.number}/"
    assert (case.channel, case.kind, case.nature, case.category) == ("grid", "event", "report", catalog.road)
    assert case.grid_cell is not None
    assert case.grid_cell.code == BJT_CELL
    assert case.created_by == world.u("bjt_grid")
    assert case.level_path == world.j("430103002001").path  # the community desk takes it (首接负责)
    assert (case.lon, case.lat, case.address) == (112.91, 28.11, "八角亭路口")
    assert list(CasePhoto.objects.filter(case=case).values_list("stage", "content_type")) == [
        ("intake", "image/png")
    ]
    done = client.get(response["Location"])
    assert done.status_code == 200
    assert case.number in done.content.decode()


def test_a_resubmitted_report_is_the_same_case(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    client = client_for("bjt_grid")
    first = client.post("/field/report/", report(catalog))
    again = client.post("/field/report/", report(catalog))

    assert first.status_code == again.status_code == 303
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == 1


def test_a_report_without_a_description_keeps_what_was_typed(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    response = client_for("bjt_grid").post("/field/report/", report(catalog, description=""))

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["description"]
    html = response.content.decode()
    assert 'id="id_description_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="人行道井盖松动"' in html  # the title
    assert 'value="112.91"' in html
    assert f'<option value="{catalog.road.code}" selected>' in html
    assert 'href="#id_description"' in html  # the summary links to the field
    assert Case.objects.count() == 0


def test_a_point_in_another_district_is_refused_at_the_position(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    lon, lat = YH_POINT
    response = client_for("bjt_grid").post("/field/report/", report(catalog, lon=str(lon), lat=str(lat)))

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["lon"]
    assert 'id="id_lon_error"' in response.content.decode()
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lat": ""}, "lat"),  # half a position
        ({"lon": "", "lat": "", "address": ""}, "address"),  # no position, no address
        ({"lon": "200"}, "lon"),
        ({"category": ""}, "category"),
        ({"category": "999999"}, "category"),
    ],
)
def test_bad_places_and_choices_are_answered_at_their_field(
    world: World,
    catalog: Catalog,
    client_for: Callable[[str], Client],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = client_for("bjt_grid").post("/field/report/", report(catalog, **overrides))

    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    assert Case.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused_at_the_photo(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    fake = photo("notes.png", b"just some text, not a picture")
    response = client_for("bjt_grid").post("/field/report/", report(catalog, photo_1=fake))

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["photo_1"]
    assert Case.objects.count() == 0


def test_without_gps_the_address_and_the_cell_place_the_event(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    response = client_for("bjt_grid").post(
        "/field/report/", report(catalog, lon="", lat="", address="八角亭社区1栋东侧")
    )

    assert response.status_code == 303
    case = Case.objects.get()
    assert case.origin == world.j("430103002001")  # the cell's community
    assert case.grid_cell is None  # no point: the intake does not guess one
    assert case.address == "八角亭社区1栋东侧"


def test_an_event_reported_from_a_visit_is_linked_to_it(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    client = client_for("bjt_grid")
    visit = do_log_household_visit(
        grid_cell=GridCell.objects.get(code=BJT_CELL),
        address="八角亭1栋2单元301室",
        visited_at=clock.now() - timedelta(hours=1),
        purpose="safety_check",
        findings="楼道内电动车飞线充电",
        actor=world.u("bjt_grid"),
    )
    prefilled = client.get(f"/field/report/?visit={visit.pk}").content.decode()
    assert "楼道内电动车飞线充电" in prefilled
    assert f'name="visit" value="{visit.pk}"' in prefilled

    response = client.post("/field/report/", report(catalog, visit=str(visit.pk)))
    assert response.status_code == 303
    visit.refresh_from_db()
    assert visit.created_case == Case.objects.get()

    # One event per visit: the visit is no longer offered, and a second report from it is refused.
    assert client.get(f"/field/report/?visit={visit.pk}").status_code == 404
    second = client.post("/field/report/", report(catalog, visit=str(visit.pk), intake_key="field:test-2"))
    assert second.status_code == 422
    assert list(second.context["form"].errors) == ["visit"]
    assert Case.objects.count() == 1


def test_another_districts_visit_cannot_be_named(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    theirs = do_log_household_visit(
        grid_cell=GridCell.objects.get(code=YH_CELL),
        address="梓园1栋101室",
        visited_at=clock.now() - timedelta(hours=1),
        purpose="routine",
        findings="无异常",
        actor=world.u("root"),
    )
    client = client_for("bjt_grid")
    assert client.get(f"/field/report/?visit={theirs.pk}").status_code == 404
    response = client.post("/field/report/", report(catalog, visit=str(theirs.pk)))

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["visit"]
    assert Case.objects.count() == 0
    assert HouseholdVisit.objects.get(pk=theirs.pk).created_case is None


def test_the_action_refuses_a_second_event_from_one_visit(world: World, catalog: Catalog) -> None:
    worker = world.u("bjt_grid")
    visit = do_log_household_visit(
        grid_cell=GridCell.objects.get(code=BJT_CELL),
        address="八角亭1栋101室",
        visited_at=clock.now(),
        purpose="routine",
        findings="路灯不亮",
        actor=worker,
    )
    values: dict[str, Any] = {
        "category": catalog.road,
        "title": "路灯不亮",
        "description": "路灯不亮",
        "lon": 112.91,
        "lat": 28.11,
        "visit": visit,
        "actor": worker,
    }
    first, created = do_report_event(intake_key="k1", **values)
    retry, created_again = do_report_event(intake_key="k1", **values)  # the same report, sent twice

    assert created
    assert not created_again
    assert retry.pk == first.pk
    with pytest.raises(ValidationError, match="already reported"):
        do_report_event(intake_key="k2", **values)
    assert Case.objects.count() == 1
