"""The staff case pages through the test client: queues, filters, saved filters, bulk dispatch, the case
page and its action panel — same permissions and validation as the API, errors at the field, input kept."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from civicgrid.cases.models import Case, CaseEvent, ExtensionRequest, SavedFilter
from civicgrid.cases.workflow import Status
from tests.cases.helpers import YH_POINT, Catalog, assist_of, build_catalog, new_case, reach
from tests.world import World

Clients = Callable[[str], Client]


@pytest.fixture
def cat(world: World) -> Catalog:
    return build_catalog()


def numbers_in(html: str) -> list[str]:
    return re.findall(r'href="/cases/([^/"]+)/"', html)


def test_it_lists_the_queues_with_counts(world: World, cat: Catalog, client_for: Clients) -> None:
    registered = reach(Status.REGISTERED, world, cat)
    handling = reach(Status.HANDLING, world, cat)
    response = client_for("tx_dispatcher").get("/cases/?queue=dispatch")
    assert response.status_code == 200
    html = response.content.decode()
    assert numbers_in(html) == [registered.number]
    assert re.search(r'data-queue="dispatch">[^<]*<span class="badge">1</span>', html)
    assert re.search(r'data-queue="handling">[^<]*<span class="badge">1</span>', html)
    assert handling.number in numbers_in(
        client_for("tx_dispatcher").get("/cases/?queue=handling").content.decode()
    )


def test_the_list_is_scoped_like_the_api(world: World, cat: Catalog, client_for: Clients) -> None:
    mine = new_case(world)
    theirs = new_case(world, actor="yh_dispatcher", point=YH_POINT)
    html = client_for("tx_dispatcher").get("/cases/").content.decode()
    assert mine.number in numbers_in(html)
    assert theirs.number not in numbers_in(html)
    # A handler sees only the cases of their unit.
    assert numbers_in(client_for("tx_cg_handler").get("/cases/").content.decode()) == []


def test_filters_use_the_api_semantics_and_report_bad_values_at_the_field(
    world: World, cat: Catalog, client_for: Clients
) -> None:
    road = new_case(world, title="井盖缺失")
    new_case(world, title="噪音扰民")
    client = client_for("tx_dispatcher")
    assert numbers_in(client.get("/cases/?q=井盖").content.decode()) == [road.number]
    response = client.get("/cases/?received_from=2026-13-45&q=井盖")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_received_from_error"' in html
    assert 'value="井盖"' in html  # what was typed stays


def test_saved_filters_belong_to_their_owner(world: World, cat: Catalog, client_for: Clients) -> None:
    client = client_for("tx_dispatcher")
    response = client.post("/cases/filters/", {"name": "井盖", "query": "q=井盖&queue=all&offset=50"})
    assert response.status_code == 303
    saved = SavedFilter.objects.get(owner=world.u("tx_dispatcher"))
    assert saved.query == "q=%E4%BA%95%E7%9B%96&queue=all"  # the page offset is not kept
    assert "井盖" in client.get("/cases/").content.decode()
    # Another user can neither see nor delete it.
    other = client_for("pzj_dispatcher")
    assert "井盖" not in other.get("/cases/").content.decode()
    assert other.post(f"/cases/filters/{saved.pk}/delete/").status_code == 404
    assert client.get(f"/cases/filters/{saved.pk}/delete/").status_code == 405
    assert client.post(f"/cases/filters/{saved.pk}/delete/").status_code == 303
    assert not SavedFilter.objects.exists()


def test_bulk_dispatch_runs_the_action_per_case(world: World, cat: Catalog, client_for: Clients) -> None:
    a = reach(Status.REGISTERED, world, cat)
    b = reach(Status.REGISTERED, world, cat)
    client = client_for("tx_dispatcher")
    response = client.post(
        "/cases/bulk-dispatch/",
        {"cases": [a.number, b.number, "NOPE-1"], "lead_unit": "430103-cg", "next": "/cases/?queue=dispatch"},
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[-1] == ("/cases/?queue=dispatch", 303)
    for case in (a, b):
        case.refresh_from_db()
        assert case.status == Status.DISPATCHED
        assert case.lead_unit is not None
        assert case.lead_unit.code == "430103-cg"
    assert "NOPE-1" in html  # reported, not silently skipped
    assert client.get("/cases/bulk-dispatch/").status_code == 405


def test_bulk_dispatch_cannot_reach_another_district(world: World, cat: Catalog, client_for: Clients) -> None:
    theirs = do_register_yh(world, cat)
    client_for("tx_dispatcher").post(
        "/cases/bulk-dispatch/", {"cases": [theirs.number], "lead_unit": "430103-cg"}
    )
    theirs.refresh_from_db()
    assert theirs.status == Status.REGISTERED


def do_register_yh(world: World, cat: Catalog) -> Case:
    from civicgrid.cases.actions import do_register

    case = new_case(world, actor="yh_dispatcher", point=YH_POINT)
    return do_register(case, category=cat.road, actor=None)


def test_the_case_page_offers_only_the_allowed_actions(
    world: World, cat: Catalog, client_for: Clients
) -> None:
    case = reach(Status.DISPATCHED, world, cat)
    handler = client_for("tx_cg_handler").get(f"/cases/{case.number}/").content.decode()
    assert 'id="act-accept"' in handler
    assert 'id="act-request_return"' in handler
    assert 'id="act-dispatch"' not in handler
    assert 'id="timeline"' in handler
    dispatcher = client_for("tx_dispatcher").get(f"/cases/{case.number}/").content.decode()
    assert 'id="act-accept"' not in dispatcher
    assert 'id="act-urge"' in dispatcher


def test_a_handler_accepts_asks_for_an_extension_and_replies(
    world: World, cat: Catalog, client_for: Clients
) -> None:
    case = reach(Status.DISPATCHED, world, cat)
    client = client_for("tx_cg_handler")
    url = f"/cases/{case.number}/act/"
    assert (
        client.post(url + "accept/", {"accept-note": "收到", "accept-version": case.version}).status_code
        == 303
    )
    case.refresh_from_db()
    assert case.status == Status.HANDLING
    response = client.post(
        url + "request_extension/",
        {
            "request_extension-amount": "2",
            "request_extension-reason": "需协调",
            "request_extension-time_unit": "work_day",
        },
    )
    assert response.status_code == 303
    assert ExtensionRequest.objects.get(case=case).reason == "需协调"
    # The co-handling unit signs and answers first, choosing its assignment in the form.
    assist = client_for("tx_zj_handler")
    assignment = str(assist_of(case).pk)
    page = assist.get(f"/cases/{case.number}/").content.decode()
    assert f'<option value="{assignment}"' in page
    assert assist.post(url + "assist_accept/", {"assist_accept-assignment": assignment}).status_code == 303
    response = assist.post(
        url + "assist_reply/", {"assist_reply-assignment": assignment, "assist_reply-reply": "已配合"}
    )
    assert response.status_code == 303
    response = client.post(url + "reply/", {"reply-reply": "已修复路面"})
    assert response.status_code == 303
    case.refresh_from_db()
    assert case.status == Status.REPLIED
    assert CaseEvent.objects.filter(case=case, code="reply", actor=world.u("tx_cg_handler")).exists()


def test_bad_input_is_told_at_the_field_and_kept(world: World, cat: Catalog, client_for: Clients) -> None:
    case = reach(Status.HANDLING, world, cat)
    response = client_for("tx_cg_handler").post(
        f"/cases/{case.number}/act/request_extension/",
        {"request_extension-amount": "3", "request_extension-reason": ""},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_request_extension-reason_error"' in html
    assert re.search(r'name="request_extension-amount"[^>]*value="3"', html)
    assert '<details class="panel action" id="act-request_extension" open>' in html
    assert not ExtensionRequest.objects.filter(case=case).exists()


def test_an_action_error_from_the_action_lands_at_its_field(
    world: World, cat: Catalog, client_for: Clients
) -> None:
    case = reach(Status.RESOLVED, world, cat)
    response = client_for("tx_dispatcher").post(
        f"/cases/{case.number}/act/revisit/",
        {
            "revisit-channel": "phone",
            "revisit-satisfaction": "unsatisfied",
            "revisit-resolution": "unresolved",
            "revisit-reached": "on",
        },
    )
    assert response.status_code == 422
    assert 'id="id_revisit-comment_error"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


def test_a_stale_version_is_a_conflict_not_an_overwrite(
    world: World, cat: Catalog, client_for: Clients
) -> None:
    case = reach(Status.DISPATCHED, world, cat)
    response = client_for("tx_cg_handler").post(
        f"/cases/{case.number}/act/accept/", {"accept-version": case.version - 1}
    )
    assert response.status_code == 409
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED


def test_editing_the_url_or_the_form_does_not_cross_jurisdictions(
    world: World, cat: Catalog, client_for: Clients
) -> None:
    theirs = do_register_yh(world, cat)
    # Another district's case: the page and every action are 404s, whatever the role.
    for who in ("tx_dispatcher", "tx_cg_handler", "tx_supervisor"):
        client = client_for(who)
        assert client.get(f"/cases/{theirs.number}/").status_code == 404
        assert (
            client.post(
                f"/cases/{theirs.number}/act/dispatch/", {"dispatch-lead_unit": "430103-cg"}
            ).status_code
            == 404
        )
    # Our case, but a unit of the other district typed into the form: refused at the field.
    ours = reach(Status.REGISTERED, world, cat)
    response = client_for("tx_dispatcher").post(
        f"/cases/{ours.number}/act/dispatch/", {"dispatch-lead_unit": "430111-cg"}
    )
    assert response.status_code == 422
    assert 'id="id_dispatch-lead_unit_error"' in response.content.decode()
    ours.refresh_from_db()
    assert ours.status == Status.REGISTERED
    # An action the user's role does not carry: 403, like the API.
    dispatched = reach(Status.DISPATCHED, world, cat)
    assert client_for("tx_dispatcher").post(f"/cases/{dispatched.number}/act/accept/").status_code == 403
    # An unknown action code: 404.
    assert client_for("tx_dispatcher").post(f"/cases/{dispatched.number}/act/nonsense/").status_code == 404


def test_action_views_refuse_get(world: World, cat: Catalog, client_for: Clients) -> None:
    case = reach(Status.DISPATCHED, world, cat)
    client = client_for("tx_cg_handler")
    assert client.get(f"/cases/{case.number}/act/accept/").status_code == 405
    assert client.get(f"/cases/{case.number}/phone/").status_code == 405


def test_revealing_the_phone_is_logged(world: World, cat: Catalog, client_for: Clients) -> None:
    from civicgrid.core.models import PersonalDataAccess

    case = reach(Status.DISPATCHED, world, cat)
    client = client_for("tx_cg_handler")
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "13812345678" not in page
    assert "138****5678" in page
    response = client.post(f"/cases/{case.number}/phone/", HTTP_HX_REQUEST="true")
    assert "13812345678" in response.content.decode()
    assert (
        PersonalDataAccess.objects.filter(actor=world.u("tx_cg_handler"), subject_id=str(case.pk)).count()
        == 1
    )


def test_a_residents_reopen_request_is_decided_on_the_case_page(
    world: World, cat: Catalog, client_for: Clients
) -> None:
    from civicgrid.portal.actions import do_request_reopen
    from civicgrid.portal.models import ReopenStatus

    case = reach(Status.REVISITED, world, cat)  # revisited, unsatisfied
    asked = do_request_reopen(case, reason="路面又塌了", actor=None)
    url = f"/cases/{case.number}/reopen-requests/{asked.pk}/"
    supervisor = client_for("tx_supervisor")
    page = supervisor.get(f"/cases/{case.number}/").content.decode()
    assert "路面又塌了" in page
    assert f'action="{url}"' in page
    # Handlers see the request but cannot decide it; neither by the page nor by posting.
    handler = client_for("tx_cg_handler")
    assert f'action="{url}"' not in handler.get(f"/cases/{case.number}/").content.decode()
    assert handler.post(url, {"decision": "decline", "note": "不予重办"}).status_code == 403
    # A decline without a note is told at the field; then the supervisor accepts.
    response = supervisor.post(url, {"decision": "decline"})
    assert response.status_code == 422
    assert f'id="reopen-note-{asked.pk}_error"' in response.content.decode()
    assert supervisor.post(url, {"decision": "accept"}).status_code == 303
    asked.refresh_from_db()
    case.refresh_from_db()
    assert asked.status == ReopenStatus.ACCEPTED
    assert case.status == Status.HANDLING
    # Decided requests are gone from the page; posting again is a 404.
    assert supervisor.post(url, {"decision": "accept"}).status_code == 404
