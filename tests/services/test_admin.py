"""The catalogue in the admin (platform operators) and centre details (the district's administrators); all
writes go through the actions."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from civicgrid.services.models import RequiredMaterial, ServiceCenterProfile, ServiceItem
from tests.services.helpers import Window

Clients = Callable[[str], Client]
ITEM_URL = "/admin/services/serviceitem/"


def _item_form(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "TEST-001",
        "name": "测试事项",
        "description": "",
        "handling_class": "promised",
        "is_active": "on",
        "order": "0",
        "legal_limit_value": "20",
        "promised_limit_value": "10",
        "limit_unit": "work_day",
        "unit_type": "",
        "level": "township",
        "fee": "",
        "basis": "",
        "materials-TOTAL_FORMS": "1",
        "materials-INITIAL_FORMS": "0",
        "materials-MIN_NUM_FORMS": "0",
        "materials-MAX_NUM_FORMS": "1000",
        "materials-0-order": "10",
        "materials-0-name": "申请书",
        "materials-0-copies": "1",
        "materials-0-form": "original",
        "materials-0-required": "on",
        "materials-0-notes": "",
    }
    data.update(fields)
    return data


def test_an_operator_adds_an_item_with_its_materials(window: Window, client_for: Clients) -> None:
    client = client_for("root")
    assert client.get(ITEM_URL).status_code == 200
    item = window.item("GA-001")
    assert client.get(f"{ITEM_URL}{item.pk}/change/").status_code == 200
    response = client.post(f"{ITEM_URL}add/", _item_form())
    assert response.status_code == 302, response.content[:2000]
    created = ServiceItem.objects.get(code="TEST-001")
    assert list(RequiredMaterial.objects.filter(item=created).values_list("name", flat=True)) == ["申请书"]


def test_a_promise_longer_than_the_law_is_refused_at_the_field(window: Window, client_for: Clients) -> None:
    response = client_for("root").post(f"{ITEM_URL}add/", _item_form(promised_limit_value="30"))
    assert response.status_code == 200
    assert "承诺时限不得长于法定时限" in response.content.decode()
    assert not ServiceItem.objects.filter(code="TEST-001").exists()


def test_district_administrators_edit_only_their_centres(window: Window, client_for: Clients) -> None:
    client = client_for("tx_admin")
    assert client.get(ITEM_URL).status_code == 403  # the catalogue is city-wide
    url = "/admin/services/servicecenterprofile/"
    listed = client.get(url).content.decode()
    assert "坡子街街道便民服务中心" in listed
    assert "侯家塘街道便民服务中心" not in listed
    profile = ServiceCenterProfile.objects.get(unit=window.centers["pzj"])
    response = client.post(
        f"{url}{profile.pk}/change/",
        {
            "unit": window.centers["pzj"].pk,
            "address": "坡子街新址",
            "phone": "0731-85550001",
            "opening_hours": "",
            "collection_point": "",
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.address == "坡子街新址"
    other = ServiceCenterProfile.objects.get(unit=window.centers["yh"])
    assert client.get(f"{url}{other.pk}/change/").status_code == 302  # not in their admin: "doesn't exist"


def test_visits_are_read_only_in_the_admin(window: Window, client_for: Clients) -> None:
    client = client_for("root")
    visit = window.visits["pzj_accepted"]
    assert client.get("/admin/services/windowvisit/").status_code == 200
    page = client.get(f"/admin/services/windowvisit/{visit.pk}/change/").content.decode()
    assert visit.number in page
    assert "13912345678" not in page  # personal data stays out of the admin
