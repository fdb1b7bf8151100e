"""Tampering: another centre's visit in the URL, another centre or another item's materials in the form's
fields, unknown or withdrawn items. Each is a 404 or a field error, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from civicgrid.services.models import VisitStatus, WindowVisit
from tests.services.helpers import PHONE, Window
from tests.world import World

Clients = Callable[[str], Client]


def test_another_centres_visit_in_the_url_is_not_found(window: Window, client_for: Clients) -> None:
    client = client_for("pzj_window")
    for key in ("yh_accepted", "cnl_accepted"):
        visit = window.visits[key]
        for path in ("", "receipt/"):
            assert client.get(f"/window/visits/{visit.number}/{path}").status_code == 404
        for step in ("start", "complete"):
            assert (
                client.post(f"/window/visits/{visit.number}/{step}/", {f"{step}-note": "x"}).status_code
                == 404
            )
        visit.refresh_from_db()
        assert visit.status == VisitStatus.REGISTERED
        assert visit.events.count() == 1
        listed = client.get("/window/visits/", {"q": visit.number}).content.decode()
        assert f"/window/visits/{visit.number}/" not in listed


def test_a_forged_centre_in_the_hidden_field_is_refused(window: Window, client_for: Clients) -> None:
    before = WindowVisit.objects.count()
    for key in ("yh", "cnl"):
        response = client_for("pzj_window").post(
            "/window/",
            {
                "item": "GA-001",
                "service_center": window.centers[key].pk,
                "materials": window.required_ids("GA-001"),
                "applicant_name": "王芳",
                "applicant_phone": PHONE,
                "outcome": "accepted",
            },
        )
        assert response.status_code == 422
        assert "便民服务中心" in response.content.decode()  # the field's label in the error summary
        assert 'value="王芳"' in response.content.decode()  # typed values kept
    assert WindowVisit.objects.count() == before


def test_another_items_materials_are_refused(window: Window, client_for: Clients) -> None:
    before = WindowVisit.objects.count()
    response = client_for("pzj_window").post(
        "/window/",
        {
            "item": "GA-001",
            "service_center": window.centers["pzj"].pk,
            "materials": window.required_ids("GA-001") + window.required_ids("MZ-001")[:1],
            "applicant_name": "王芳",
            "applicant_phone": PHONE,
            "outcome": "accepted",
        },
    )
    assert response.status_code == 422
    assert 'id="id_materials_group"' in response.content.decode()
    assert WindowVisit.objects.count() == before


def test_an_unknown_or_withdrawn_item_is_not_found(window: Window, client_for: Clients, world: World) -> None:
    client = client_for("pzj_window")
    assert client.get("/window/", {"item": "NOPE-1"}).status_code == 404
    assert client.post("/window/", {"item": "NOPE-1", "applicant_name": "x"}).status_code == 404
    assert client.post("/window/", {"applicant_name": "x"}).status_code == 404
    item = window.item("GA-002")
    item.is_active = False
    item.save(update_fields=["is_active"])  # set up: an operator withdrew the item
    assert client.get("/window/", {"item": "GA-002"}).status_code == 404
