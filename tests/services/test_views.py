"""The window's pages through the test client: the desk's search and registration, bad input kept at the
field, the visit page and its steps, the printed documents, the visit list."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from civicgrid.accounts.actions import do_grant_role
from civicgrid.accounts.models import Role
from civicgrid.services.models import Outcome, VisitStatus, WindowVisit
from tests.services.helpers import PHONE, Window
from tests.world import World

Clients = Callable[[str], Client]


def form_data(window: Window, *, received: list[int] | None = None, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "item": "GA-001",
        "service_center": window.centers["pzj"].pk,
        "materials": window.required_ids("GA-001") if received is None else received,
        "applicant_name": "王芳",
        "applicant_phone": PHONE,
        "id_number": "",
        "outcome": Outcome.ACCEPTED,
        "refusal_reason": "",
        "note": "",
    }
    data.update(fields)
    return data


def test_the_desk_lists_and_searches_items(window: Window, client_for: Clients) -> None:
    client = client_for("pzj_window")
    page = client.get("/window/").content.decode()
    assert "居住证办理（首次申领）" in page
    assert "高龄津贴申请" in page
    found = client.get("/window/", {"q": "高龄"}).content.decode()
    results = found[found.index('<div id="item-results">') :]
    results = results[: results.index("</div>")]
    assert "高龄津贴申请" in results
    assert "居住证办理" not in results
    # htmx asks for the list alone.
    fragment = client.get("/window/", {"q": "MZ-00"}, headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="item-results">')
    assert "<html" not in fragment
    assert "高龄津贴申请" in fragment


def test_picking_an_item_shows_its_materials_as_a_checklist(window: Window, client_for: Clients) -> None:
    page = client_for("pzj_window").get("/window/", {"item": "GA-001"}).content.decode()
    for material in window.item("GA-001").materials.all():
        assert material.name in page
    assert page.count('name="materials"') == window.item("GA-001").materials.count()
    assert page.count('data-required="true"') == len(window.required_ids("GA-001"))
    assert 'type="hidden" name="service_center"' in page  # one counter: nothing to choose
    assert 'value="instant"' not in page  # a 承诺件 cannot be done on the spot


def test_registering_redirects_to_the_visit(window: Window, client_for: Clients) -> None:
    response = client_for("pzj_window").post("/window/", form_data(window))
    assert response.status_code == 303
    visit = WindowVisit.objects.latest("pk")
    assert response["Location"] == f"/window/visits/{visit.number}/"
    assert visit.outcome == Outcome.ACCEPTED
    assert visit.registered_by is not None
    assert visit.registered_by.username == "pzj_window"


def test_a_missing_name_is_reported_at_the_field_and_the_input_is_kept(
    window: Window, client_for: Clients
) -> None:
    before = WindowVisit.objects.count()
    ticked = window.required_ids("GA-001")[1:3]
    response = client_for("pzj_window").post(
        "/window/",
        form_data(window, applicant_name="", received=ticked, outcome=Outcome.NOTICE, note="带了一半"),
    )
    assert response.status_code == 422
    assert WindowVisit.objects.count() == before
    page = response.content.decode()
    group = re.search(
        r'<div class="field has-error is-required" id="id_applicant_name_group">(.*?)</div>\s*</div>|'
        r'<div class="field has-error is-required" id="id_applicant_name_group">.*?<input[^>]*>',
        page,
        re.S,
    )
    assert group is not None, "the name's field group is marked as having an error"
    assert 'aria-invalid="true"' in group.group(0)
    assert "这个字段是必填项" in group.group(0) or "必填" in group.group(0)
    assert 'class="error-summary"' in page
    assert f'value="{PHONE}"' in page  # typed values kept
    assert "带了一半" in page
    for pk in ticked:
        assert re.search(rf'<input[^>]*value="{pk}"[^>]*checked', page), pk
    assert re.search(r'<input[^>]*value="notice"[^>]*checked', page)


def test_an_action_rule_lands_on_its_field(window: Window, client_for: Clients) -> None:
    response = client_for("pzj_window").post(
        "/window/", form_data(window, received=window.required_ids("GA-001")[1:], outcome=Outcome.ACCEPTED)
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert re.search(r'id="id_outcome_group".*?一次性告知', page, re.S)


def test_the_visit_page_walks_the_visit(window: Window, client_for: Clients) -> None:
    client = client_for("pzj_window")
    visit = window.visits["pzj_accepted"]
    page = client.get(f"/window/visits/{visit.number}/").content.decode()
    assert visit.number in page
    assert "139****5678" in page
    assert PHONE not in page
    assert f'action="/window/visits/{visit.number}/start/"' in page
    assert f'action="/window/visits/{visit.number}/collect/"' not in page
    for step, status in (("start", VisitStatus.IN_PROGRESS), ("complete", VisitStatus.DONE)):
        response = client.post(f"/window/visits/{visit.number}/{step}/", {f"{step}-note": "好"})
        assert response.status_code == 303
        visit.refresh_from_db()
        assert visit.status == status
    # Completing again is refused with a message, and nothing changes.
    response = client.post(f"/window/visits/{visit.number}/complete/", {"complete-note": ""})
    assert response.status_code == 422
    assert "该办件当前为“已办结”状态，无法“办结”。" in response.content.decode()
    assert visit.events.count() == 3


@pytest.mark.parametrize("step", ["start", "complete", "collect"])
def test_steps_refuse_get(window: Window, client_for: Clients, step: str) -> None:
    visit = window.visits["pzj_accepted"]
    assert client_for("pzj_window").get(f"/window/visits/{visit.number}/{step}/").status_code == 405


def test_the_one_time_notice_lists_every_material_and_marks_the_missing(
    window: Window, client_for: Clients
) -> None:
    client = client_for("pzj_window")
    visit = window.visits["pzj_notice"]
    response = client.get(f"/window/visits/{visit.number}/notice/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "一次性告知书" in page
    missing = window.item("GA-001").materials.get(pk=window.required_ids("GA-001")[0]).name
    assert re.search(rf'<tr class="is-missing">.*?{re.escape(missing)}', page, re.S)
    assert page.count('class="is-missing"') == 1
    for material in window.item("GA-001").materials.all():
        assert material.name in page
    assert "居住证暂行条例" in page  # the legal basis
    assert "0731-85550000" in page  # the centre's phone
    assert "data-print" in page
    # A notice exists only for a notice outcome; a receipt only for an accepted or instant one.
    assert client.get(f"/window/visits/{visit.number}/receipt/").status_code == 404
    accepted = window.visits["pzj_accepted"]
    assert client.get(f"/window/visits/{accepted.number}/notice/").status_code == 404


def test_the_receipt_shows_the_promised_date(window: Window, client_for: Clients) -> None:
    visit = window.visits["pzj_accepted"]
    page = client_for("pzj_window").get(f"/window/visits/{visit.number}/receipt/").content.decode()
    assert "受理回执" in page
    assert visit.promised_date is not None
    assert f"{visit.promised_date.year}年{visit.promised_date.month}月{visit.promised_date.day}日" in page
    assert "坡子街街道便民服务中心综合窗口" in page  # where to collect
    assert "139****5678" in page
    instant = window.visits["pzj_instant"]
    assert (
        "办结回执"
        in client_for("pzj_window").get(f"/window/visits/{instant.number}/receipt/").content.decode()
    )


def test_the_visit_list_finds_by_number_and_phone(window: Window, client_for: Clients, world: World) -> None:
    client = client_for("pzj_window")
    page = client.get("/window/visits/").content.decode()
    mine = [v for k, v in window.visits.items() if k.startswith("pzj_")]
    for visit in mine:
        assert visit.number in page
    assert window.visits["yh_accepted"].number not in page
    assert window.visits["cnl_accepted"].number not in page
    by_phone = client.get("/window/visits/", {"q": "139 1234 5678"}).content.decode()
    assert all(v.number in by_phone for v in mine)
    notice = window.visits["pzj_notice"]
    by_number = client.get("/window/visits/", {"q": notice.number}).content.decode()
    assert notice.number in by_number
    assert window.visits["pzj_accepted"].number not in by_number
    done = client.get("/window/visits/", {"status": "done"}).content.decode()
    assert window.visits["pzj_instant"].number in done
    assert notice.number not in done


def test_the_desk_speaks_english_too(window: Window, client_for: Clients) -> None:
    client = client_for("pzj_window")
    client.cookies["django_language"] = "en"
    page = client.get("/window/", {"item": "GA-001"}).content.decode()
    assert "Register a visit" in page
    assert "Materials received" in page


def test_a_clerk_with_two_centres_picks_one(window: Window, client_for: Clients, world: World) -> None:
    do_grant_role(world.u("pzj_window"), role=Role.WINDOW_CLERK, unit=window.centers["cnl"], actor=None)
    client = client_for("pzj_window")
    page = client.get("/window/", {"item": "GA-001"}).content.decode()
    select = re.search(r'<select name="service_center"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    assert "坡子街街道便民服务中心" in select.group(1)
    assert "城南路街道便民服务中心" in select.group(1)
    assert "侯家塘" not in select.group(1)
    response = client.post("/window/", form_data(window, service_center=window.centers["cnl"].pk))
    assert response.status_code == 303
    assert WindowVisit.objects.latest("pk").service_center == window.centers["cnl"]


def test_searching_keeps_the_chosen_item(window: Window, client_for: Clients) -> None:
    fragment = (
        client_for("pzj_window")
        .get("/window/", {"q": "居住证", "item": "GA-001"}, headers={"HX-Request": "true"})
        .content.decode()
    )
    assert re.search(r'item=GA-001"\s+aria-current="page"', fragment)
