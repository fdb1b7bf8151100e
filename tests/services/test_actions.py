"""The visit actions: outcome rules, the clerk's centre, the transition table, scope, history and numbers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from civicgrid.accounts.actions import do_grant_role
from civicgrid.accounts.models import Role
from civicgrid.accounts.permissions import forget_scope
from civicgrid.core import crypto
from civicgrid.lib.clock import frozen
from civicgrid.services import actions as a
from civicgrid.services.models import (
    Outcome,
    ServiceCenterProfile,
    VisitAction,
    VisitEvent,
    VisitStatus,
    WindowVisit,
)
from civicgrid.services.queries import service_centers_for, visible_visits
from tests.services.helpers import PHONE, VALID_ID, Window
from tests.world import World

CST = ZoneInfo("Asia/Shanghai")


def register_as(window: Window, world: World, username: str, **overrides: object) -> WindowVisit:
    fields: dict[str, object] = {
        "item": window.item("GA-001"),
        "service_center": window.centers["pzj"],
        "applicant_name": "王芳",
        "applicant_phone": PHONE,
        "received": window.required_ids("GA-001"),
        "outcome": Outcome.ACCEPTED,
    }
    fields.update(overrides)
    return a.do_register_visit(**fields, actor=world.u(username))  # type: ignore[arg-type]


def test_an_accepted_visit_runs_a_promise_and_records_its_registration(window: Window, world: World) -> None:
    visit = register_as(window, world, "pzj_window", id_number=VALID_ID)
    assert visit.status == VisitStatus.REGISTERED
    assert visit.registered_by == world.u("pzj_window")
    assert visit.promised_due_at is not None
    assert visit.promised_date is not None
    assert visit.missing_materials == []
    assert [m["received"] for m in visit.materials] == [
        m.required for m in window.item("GA-001").materials.all()
    ]
    event = VisitEvent.objects.get(visit=visit)
    assert (event.seq, event.code, event.from_status, event.to_status) == (1, "register", "", "registered")
    # Personal data is encrypted at rest and found by digest.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT applicant_phone, id_number FROM services_windowvisit WHERE id = %s", [visit.pk]
        )
        raw_phone, raw_id = cursor.fetchone()
    assert PHONE not in raw_phone
    assert VALID_ID not in raw_id
    assert visit.applicant_phone_digest == crypto.digest(PHONE)
    assert WindowVisit.objects.get(id_number_digest=crypto.digest(VALID_ID)) == visit
    assert visit.masked_phone == "139****5678"


def test_missing_required_materials_force_the_one_time_notice(window: Window, world: World) -> None:
    required = window.required_ids("GA-001")
    before = WindowVisit.objects.count()
    with pytest.raises(ValidationError) as refused:
        register_as(window, world, "pzj_window", received=required[1:], outcome=Outcome.ACCEPTED)
    assert "give the one-time notice instead" in refused.value.message_dict["outcome"][0]
    assert WindowVisit.objects.count() == before

    visit = register_as(window, world, "pzj_window", received=required[1:], outcome=Outcome.NOTICE)
    assert visit.status == VisitStatus.CLOSED
    assert visit.promised_due_at is None
    assert [m["name"] for m in visit.missing_materials] == [
        window.item("GA-001").materials.get(pk=required[0]).name
    ]


def test_a_notice_needs_something_missing(window: Window, world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        register_as(window, world, "pzj_window", outcome=Outcome.NOTICE)
    assert "accept the application instead" in refused.value.message_dict["outcome"][0]


def test_only_instant_items_are_done_on_the_spot(window: Window, world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        register_as(window, world, "pzj_window", outcome=Outcome.INSTANT)
    assert "outcome" in refused.value.message_dict
    visit = register_as(
        window,
        world,
        "pzj_window",
        item=window.item("YB-001"),
        received=window.required_ids("YB-001"),
        outcome=Outcome.INSTANT,
    )
    assert visit.status == VisitStatus.DONE
    assert visit.completed_at == visit.registered_at


def test_a_refusal_needs_its_reason(window: Window, world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        register_as(window, world, "pzj_window", outcome=Outcome.REFUSED, received=[])
    assert set(refused.value.message_dict) == {"refusal_reason"}
    visit = register_as(
        window, world, "pzj_window", outcome=Outcome.REFUSED, received=[], refusal_reason="户籍不在本街道"
    )
    assert (visit.status, visit.refusal_reason) == (VisitStatus.CLOSED, "户籍不在本街道")


def test_every_bad_field_is_reported_at_once(window: Window, world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        register_as(
            window,
            world,
            "pzj_window",
            applicant_name="  ",
            applicant_phone="12345",
            id_number="430103199001011238",  # wrong check digit
            received=[*window.required_ids("MZ-001")],  # another item's materials
        )
    assert set(refused.value.message_dict) >= {"applicant_name", "applicant_phone", "id_number", "materials"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (VALID_ID, True),
        ("43010319900101123x", False),
        ("430103199002301233", False),  # 30 February, checksum right
        ("4301031990010112", False),
        ("", True),
    ],
)
def test_id_numbers_are_checked(value: str, ok: bool) -> None:
    if ok:
        assert a.check_id_number(value) == value
    else:
        with pytest.raises(ValidationError):
            a.check_id_number(value)


def test_an_x_check_digit_is_accepted_in_either_case() -> None:
    body = "11010519491231002"
    assert a.check_id_number(body + "x") == body + "X"


def test_a_clerk_registers_only_at_their_own_centre(window: Window, world: World) -> None:
    before = WindowVisit.objects.count()
    for key in ("yh", "cnl"):
        with pytest.raises(ValidationError) as refused:
            register_as(window, world, "pzj_window", service_center=window.centers[key])
        assert set(refused.value.message_dict) == {"service_center"}
    assert WindowVisit.objects.count() == before


def test_a_clerk_with_two_grants_picks_either_centre(window: Window, world: World) -> None:
    clerk = world.u("pzj_window")
    do_grant_role(clerk, role=Role.WINDOW_CLERK, unit=window.centers["cnl"], actor=None)
    forget_scope(clerk)
    assert set(service_centers_for(clerk)) == {window.centers["pzj"], window.centers["cnl"]}
    visit = register_as(window, world, "pzj_window", service_center=window.centers["cnl"])
    assert visit.service_center == window.centers["cnl"]
    assert set(visible_visits(clerk).values_list("service_center__code", flat=True)) == {
        "430103002-service_center",
        "430103004-service_center",
    }


def test_a_district_wide_clerk_works_at_the_centres_of_the_district(window: Window, world: World) -> None:
    clerk = world.u("tx_hotline")
    do_grant_role(clerk, role=Role.WINDOW_CLERK, jurisdiction=world.j("430103"), actor=None)
    forget_scope(clerk)
    assert set(service_centers_for(clerk)) == {window.centers["pzj"], window.centers["cnl"]}
    assert set(visible_visits(clerk)) == {v for k, v in window.visits.items() if not k.startswith("yh_")}


def test_who_sees_which_visits(window: Window, world: World) -> None:
    v = window.visits
    assert set(visible_visits(world.u("pzj_window"))) == {
        v["pzj_accepted"],
        v["pzj_notice"],
        v["pzj_instant"],
    }
    assert set(visible_visits(world.u("root"))) == set(v.values())
    for username in ("tx_leader", "tx_dispatcher", "yh_admin", "bjt_grid", "nobody"):
        assert not visible_visits(world.u(username)).exists(), username


@pytest.mark.parametrize("action", list(a.TRANSITIONS))
@pytest.mark.parametrize("status", list(VisitStatus))
def test_the_transition_table(window: Window, world: World, action: VisitAction, status: VisitStatus) -> None:
    visit = window.visits["pzj_accepted"]
    WindowVisit.objects.filter(pk=visit.pk).update(status=status)  # set up the state under test
    visit.refresh_from_db()
    sources, target = a.TRANSITIONS[action]
    step = {
        VisitAction.START: a.do_start_visit,
        VisitAction.COMPLETE: a.do_complete_visit,
        VisitAction.COLLECT: a.do_mark_collected,
    }[action]
    if status in sources:
        step(visit, note="ok", actor=world.u("pzj_window"))
        visit.refresh_from_db()
        assert visit.status == target
        last = visit.events.order_by("-seq").first()
        assert last is not None
        assert (last.seq, last.code, last.from_status, last.to_status) == (
            2,
            action,
            status,
            target,
        )
    else:
        with pytest.raises(ValidationError):
            step(visit, actor=world.u("pzj_window"))
        visit.refresh_from_db()
        assert visit.status == status
        assert visit.events.count() == 1


def test_a_visit_walks_to_collected_with_a_gap_free_history(window: Window, world: World) -> None:
    clerk = world.u("pzj_window")
    visit = window.visits["pzj_accepted"]
    a.do_start_visit(visit, actor=clerk)
    a.do_complete_visit(visit, note="证件已制作完成", actor=clerk)
    a.do_mark_collected(visit, note="本人领取", actor=clerk)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COLLECTED
    assert visit.completed_at is not None
    assert visit.collected_at is not None
    assert list(visit.events.values_list("seq", "code")) == [
        (1, "register"),
        (2, "start"),
        (3, "complete"),
        (4, "collect"),
    ]


def test_nobody_acts_on_another_centres_visit(window: Window, world: World) -> None:
    visit = window.visits["yh_accepted"]
    for username in ("pzj_window", "yh_admin", "tx_leader"):
        with pytest.raises(PermissionDenied):
            a.do_complete_visit(visit, actor=world.u(username))
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REGISTERED
    assert visit.events.count() == 1


def test_numbers_are_w_date_sequence_per_day(window: Window, world: World) -> None:
    with frozen(datetime(2026, 3, 2, 9, 0, tzinfo=CST)):
        first = register_as(window, world, "pzj_window")
        second = register_as(window, world, "pzj_window")
    with frozen(datetime(2026, 3, 3, 0, 30, tzinfo=CST)):  # after local midnight: a new day
        third = register_as(window, world, "pzj_window")
    assert [first.number, second.number, third.number] == ["W202603020001", "W202603020002", "W202603030001"]


def test_the_catalogue_is_for_platform_operators(window: Window, world: World) -> None:
    item = window.item("GA-001")
    item.name = "改名"
    with pytest.raises(PermissionDenied):
        a.do_save_service_item(item, actor=world.u("tx_admin"))
    item.promised_limit_value = item.legal_limit_value + 1
    with pytest.raises(ValidationError) as refused:
        a.do_save_service_item(item, actor=world.u("root"))
    assert set(refused.value.message_dict) == {"promised_limit_value"}


def test_centre_details_are_edited_within_the_administrators_district(window: Window, world: World) -> None:
    profile = ServiceCenterProfile.objects.get(unit=window.centers["yh"])
    profile.address = "新地址"
    with pytest.raises(PermissionDenied):
        a.do_save_service_center_profile(profile, actor=world.u("tx_admin"))
    a.do_save_service_center_profile(profile, actor=world.u("yh_admin"))
    profile.refresh_from_db()
    assert profile.address == "新地址"


def test_the_responsible_unit_follows_the_items_type_and_level(window: Window, world: World) -> None:
    # YB-001 is handled by the street's own centre (type service_center, township level).
    visit = window.visits["pzj_instant"]
    assert visit.responsible_unit == window.centers["pzj"]
    other = register_as(
        window,
        world,
        "root",
        service_center=window.centers["yh"],
        item=window.item("YB-001"),
        received=window.required_ids("YB-001"),
        outcome=Outcome.INSTANT,
    )
    assert other.responsible_unit == window.centers["yh"]  # the same item, the other street's centre
