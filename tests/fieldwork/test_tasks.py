"""My tasks: replies to verify on site (核查) in my cells, resolved cases to revisit for those who revisit;
the task page, the verify form's outcomes, and the answers to bad, stale or late submissions."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.cases.models import CaseEvent, CasePhoto, Revisit
from civicgrid.cases.workflow import Status
from tests.cases.helpers import Catalog
from tests.fieldwork.helpers import bjt_case, tiny_png, yh_case
from tests.world import World


def test_my_tasks_lists_the_replies_waiting_in_my_cells(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    replied = bjt_case(world, catalog, Status.REPLIED)
    bjt_case(world, catalog, Status.HANDLING)  # with the unit: nothing to do in the field
    resolved = bjt_case(world, catalog, Status.RESOLVED)
    elsewhere = yh_case(world, catalog)

    def listed(username: str) -> set[str]:
        html = client_for(username).get("/field/tasks/").content.decode()
        return set(re.findall(r'href="/field/tasks/([0-9-]+)/"', html))

    # Not waiting, waiting for a revisit desk, or not in my cells: none of those are mine.
    assert listed("bjt_grid") == {replied.number}
    assert listed("bjt_leader") == {replied.number}
    assert listed("bjt_building") == set()  # building heads report; they do not verify
    # Superusers verify and revisit everywhere.
    assert listed("root") == {replied.number, resolved.number, elsewhere.number}


def test_a_grid_worker_verifies_a_reply_on_site(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    case = bjt_case(world, catalog, Status.REPLIED)
    client = client_for("bjt_grid")
    page = client.get(f"/field/tasks/{case.number}/").content.decode()
    assert "已修复" in page  # the unit's reply is there to check
    assert 'id="verify-form"' in page

    picture = SimpleUploadedFile("复查.png", tiny_png(), content_type="image/png")
    response = client.post(
        f"/field/tasks/{case.number}/verify/", {"passed": "true", "version": case.version, "photo": picture}
    )

    assert response.status_code == 303
    assert response["Location"] == "/field/tasks/"
    case.refresh_from_db()
    assert case.status == Status.RESOLVED
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (event.code, event.actor) == ("verify", world.u("bjt_grid"))
    assert CasePhoto.objects.filter(case=case, stage="verify").count() == 1
    assert f'href="/field/tasks/{case.number}/"' not in client.get("/field/tasks/").content.decode()


def test_a_failed_check_needs_a_note_and_keeps_the_choice(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    case = bjt_case(world, catalog, Status.REPLIED)
    client = client_for("bjt_grid")
    url = f"/field/tasks/{case.number}/verify/"

    response = client.post(url, {"passed": "false", "note": "  ", "version": case.version})
    assert response.status_code == 422
    assert list(response.context["submitted"].errors) == ["note"]
    html = response.content.decode()
    assert 'id="id_note_error"' in html
    assert 'value="false" required id="id_passed_1" checked>' in html
    case.refresh_from_db()
    assert case.status == Status.REPLIED

    response = client.post(url, {"passed": "false", "note": "井盖仍然松动", "version": case.version})
    assert response.status_code == 303
    case.refresh_from_db()
    assert (case.status, case.rework_count) == (Status.HANDLING, 1)  # 返工


def test_a_stale_page_is_told_and_changes_nothing(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    case = bjt_case(world, catalog, Status.REPLIED)
    client = client_for("bjt_grid")
    stale = client.post(
        f"/field/tasks/{case.number}/verify/", {"passed": "true", "version": case.version - 1}
    )
    assert stale.status_code == 409
    case.refresh_from_db()
    assert case.status == Status.REPLIED

    assert (
        client_for("bjt_leader").post(f"/field/tasks/{case.number}/verify/", {"passed": "true"}).status_code
        == 303
    )
    late = client.post(f"/field/tasks/{case.number}/verify/", {"passed": "true", "version": case.version})
    assert late.status_code == 409  # someone else verified it first
    assert 'id="verify-form"' not in late.content.decode()
    assert CaseEvent.objects.filter(case=case, code="verify").count() == 1


def test_a_building_head_sees_the_case_but_cannot_verify(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    case = bjt_case(world, catalog, Status.REPLIED)
    client = client_for("bjt_building")
    page = client.get(f"/field/tasks/{case.number}/")
    assert page.status_code == 200
    assert 'id="verify-form"' not in page.content.decode()
    assert client.post(f"/field/tasks/{case.number}/verify/", {"passed": "true"}).status_code == 403
    case.refresh_from_db()
    assert case.status == Status.REPLIED


def test_a_revisit_desk_revisits_from_the_task_page(
    world: World, catalog: Catalog, client_for: Callable[[str], Client]
) -> None:
    case = bjt_case(world, catalog, Status.RESOLVED)
    client = client_for("root")
    assert 'id="revisit-form"' in client.get(f"/field/tasks/{case.number}/").content.decode()
    url = f"/field/tasks/{case.number}/revisit/"
    base = {"channel": "visit", "reached": "true", "resolution": "unresolved", "version": case.version}

    unhappy = client.post(url, {**base, "satisfaction": "unsatisfied", "comment": ""})
    assert unhappy.status_code == 422
    assert list(unhappy.context["submitted"].errors) == ["comment"]
    assert 'id="id_comment_error"' in unhappy.content.decode()

    done = client.post(url, {**base, "satisfaction": "unsatisfied", "comment": "井盖还在晃"})
    assert done.status_code == 303
    case.refresh_from_db()
    assert case.status == Status.REVISITED
    assert Revisit.objects.get(case=case).comment == "井盖还在晃"
