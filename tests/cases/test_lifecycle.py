"""Whole lifecycles by the people who do them, level by level: joint handling, returns and rulings,
escalation across three levels, rework, reopening, merge and split, and who may not act."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from civicgrid.accounts.permissions import forget_scope, visible_cases
from civicgrid.cases import actions as a
from civicgrid.cases.models import AssignmentStatus, Case, CaseAssignment, CaseEvent, EscalationHop, Stage
from civicgrid.cases.workflow import Status
from tests.cases.helpers import BJT_POINT, build_catalog, new_case, unit
from tests.world import World


def events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("code", flat=True))


def test_joint_case_from_hotline_to_archive(world: World) -> None:
    catalog = build_catalog()
    u = world.u
    case = new_case(world, actor="tx_hotline")
    assert case.status == Status.RECEIVED
    assert (case.level, case.jurisdiction.code) == ("county", "430103")  # the hotline station's level
    assert case.origin.code == "430103002001"
    assert case.grid_cell is not None
    assert case.number.startswith("430100-")

    a.do_register(case, category=catalog.road, handling_class="joint", actor=u("tx_hotline"))
    cg, zj = unit(world, "430103-cg"), unit(world, "430103-zj")
    with pytest.raises(ValidationError) as exc:
        a.do_dispatch(case, lead=cg, actor=u("tx_dispatcher"))
    assert "assist_units" in exc.value.message_dict  # a joint case needs a co-handler
    a.do_dispatch(case, lead=cg, assists=[zj], actor=u("tx_dispatcher"))
    assert case.status == Status.DISPATCHED
    assert case.lead_unit == cg

    assist = CaseAssignment.objects.get(case=case, unit=zj)
    with pytest.raises(PermissionDenied):  # the co-handler cannot sign for the lead unit
        a.do_accept(case, actor=u("tx_zj_handler"))
    with pytest.raises(PermissionDenied):  # nor the lead unit for the co-handler
        a.do_assist_accept(case, assignment=assist, actor=u("tx_cg_handler"))
    a.do_accept(case, actor=u("tx_cg_handler"))
    a.do_assist_accept(case, assignment=assist, actor=u("tx_zj_handler"))
    with pytest.raises(ValidationError) as exc:
        a.do_reply(case, reply="已修复", actor=u("tx_cg_handler"))
    assert "天心区住房和城乡建设局" in str(exc.value)  # waiting for the co-handler, named
    a.do_assist_reply(case, assignment=assist, reply="已核实产权", actor=u("tx_zj_handler"))
    a.do_reply(case, reply="路面已修复", actor=u("tx_cg_handler"))
    assert case.status == Status.REPLIED

    with pytest.raises(PermissionDenied):  # a grid worker outside the place cannot verify
        a.do_verify(case, passed=True, actor=u("yh_admin"))
    a.do_verify(case, passed=True, actor=u("bjt_grid"))  # on site, in their community
    assert case.status == Status.RESOLVED
    assert case.closed_at is not None
    a.do_revisit(
        case, channel="phone", resolution="resolved", satisfaction="satisfied", actor=u("tx_hotline")
    )
    a.do_archive(case, actor=u("tx_dispatcher"))
    assert case.status == Status.ARCHIVED
    assert events(case) == [
        "create",
        "register",
        "dispatch",
        "accept",
        "assist_accept",
        "assist_reply",
        "reply",
        "verify",
        "revisit",
        "archive",
    ]
    assert CaseAssignment.objects.get(pk=assist.pk).status == AssignmentStatus.REPLIED


def test_return_approved_then_ruled(world: World) -> None:
    catalog = build_catalog()
    u = world.u
    case = new_case(world)
    a.do_register(case, category=catalog.road, actor=u("tx_hotline"))
    a.do_dispatch(case, lead=unit(world, "430103-zj"), actor=u("tx_dispatcher"))
    with pytest.raises(ValidationError) as exc:
        a.do_request_return(case, reason="  ", actor=u("tx_zj_handler"))
    assert "reason" in exc.value.message_dict
    a.do_request_return(case, reason="道路养护不属住建职责", basis="权责清单第12条", actor=u("tx_zj_handler"))
    assert case.status == Status.RETURN_REQUESTED
    with pytest.raises(PermissionDenied):  # the unit cannot approve its own return
        a.do_approve_return(case, actor=u("tx_zj_handler"))
    a.do_approve_return(case, actor=u("tx_dispatcher"))
    assert (case.status, case.return_count, case.lead_unit) == (Status.REGISTERED, 1, None)
    returned = CaseAssignment.objects.get(case=case, unit__code="430103-zj")
    assert (returned.status, returned.is_current, returned.return_reason) == (
        AssignmentStatus.RETURNED,
        False,
        "道路养护不属住建职责",
    )

    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=u("tx_dispatcher"))
    a.do_request_return(case, reason="应由街道处理", actor=u("tx_cg_handler"))
    a.do_reject_return(case, note="城市道路属城管职责，审定由你单位办理", actor=u("tx_dispatcher"))
    assert case.status == Status.DISPATCHED
    assert case.owner_ruled
    with pytest.raises(ValidationError) as exc:
        a.do_request_return(case, reason="再次退回", actor=u("tx_cg_handler"))
    assert "ruling" in str(exc.value)
    assert case.status == Status.DISPATCHED  # nothing changed
    a.do_accept(case, actor=u("tx_cg_handler"))
    assert case.status == Status.HANDLING


def test_escalation_across_three_levels(world: World) -> None:
    """社区 → 街道 → 区 → 市: each hop recorded, each higher desk sees and dispatches the case, and the lower
    desk loses the right to dispatch it."""
    catalog = build_catalog()
    u = world.u
    case = new_case(
        world, actor="bjt_grid", kind="event", reporter_name="", reporter_phone="", channel="grid"
    )
    assert (case.level, case.jurisdiction.code) == ("community", "430103002001")  # 小事不出村
    assert not case.needs_revisit  # a grid worker's own report has no resident to ask
    a.do_register(case, category=catalog.road, actor=u("bjt_leader"))

    # 1. The community desk escalates: beyond its means.
    a.do_escalate(case, reason="需要街道协调多个部门", actor=u("bjt_leader"))
    assert (case.status, case.level, case.jurisdiction.code) == (Status.REGISTERED, "township", "430103002")
    with pytest.raises(PermissionDenied):
        a.do_dispatch(case, lead=unit(world, "430103002001-community_committee"), actor=u("bjt_leader"))
    a.do_dispatch(case, lead=unit(world, "430103002-township_office"), actor=u("pzj_dispatcher"))
    a.do_accept(case, actor=u("pzj_office_handler"))

    # 2. The township's unit escalates (the lead unit may): needs the district's enforcement powers.
    a.do_escalate(case, reason="需区级执法", actor=u("pzj_office_handler"))
    assert (case.level, case.jurisdiction.code, case.lead_unit) == ("county", "430103", None)
    assert not CaseAssignment.objects.filter(case=case, is_current=True).exists()
    with pytest.raises(PermissionDenied):
        a.do_dispatch(case, lead=unit(world, "430103002-township_office"), actor=u("pzj_dispatcher"))
    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=u("tx_dispatcher"))

    # 3. The district dispatcher escalates to the city.
    a.do_escalate(case, reason="涉及市管道路", actor=u("tx_dispatcher"))
    assert (case.level, case.jurisdiction.code) == ("city", "430100")
    with pytest.raises(PermissionDenied):  # the county desk may not dispatch a city-level case
        a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=u("tx_dispatcher"))
    a.do_dispatch(case, lead=unit(world, "430100-cg"), actor=u("cs_dispatcher"))
    a.do_accept(case, actor=u("cs_cg_handler"))
    assert case.escalation_count == 3

    hops = list(EscalationHop.objects.filter(case=case).values_list("from_level", "to_level", "trigger"))
    assert hops == [
        ("community", "township", "manual"),
        ("township", "county", "manual"),
        ("county", "city", "manual"),
    ]
    # Every desk on the way still sees the case (it is located in their subtree); the city sees it by level.
    for username in ("bjt_leader", "pzj_dispatcher", "tx_dispatcher", "cs_dispatcher", "cs_cg_handler"):
        forget_scope(u(username))
        assert visible_cases(u(username)).filter(pk=case.pk).exists(), username
    assert not visible_cases(u("yh_dispatcher")).filter(pk=case.pk).exists()
    with pytest.raises(ValidationError):
        a.do_escalate(case, reason="再上报", actor=u("cs_dispatcher"))  # already at the top


def test_rule_escalation_at_registration(world: World) -> None:
    catalog = build_catalog()
    case = new_case(
        world, actor="bjt_grid", kind="event", reporter_name="", reporter_phone="", channel="grid"
    )
    a.do_register(case, category=catalog.major, actor=world.u("bjt_leader"))
    assert (case.status, case.level) == (Status.REGISTERED, "county")
    hop = EscalationHop.objects.get(case=case)
    assert (hop.from_level, hop.to_level, hop.trigger) == ("community", "county", "rule")
    assert events(case) == ["create", "register", "escalate"]

    escalated = new_case(world, actor="pzj_window", nature="help", channel="window")
    assert escalated.level == "township"
    a.do_register(escalated, category=catalog.road, handling_class="escalated", actor=world.u("pzj_window"))
    assert escalated.level == "county"  # 上报件: one level above the receiving desk


def test_rework_then_reopen(world: World) -> None:
    catalog = build_catalog()
    u = world.u
    case = new_case(world)
    a.do_register(case, category=catalog.road, actor=u("tx_hotline"))
    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=u("tx_dispatcher"))
    a.do_accept(case, actor=u("tx_cg_handler"))
    a.do_reply(case, reply="已修复", actor=u("tx_cg_handler"))
    with pytest.raises(ValidationError) as exc:
        a.do_verify(case, passed=False, actor=u("bjt_grid"))
    assert "note" in exc.value.message_dict  # a failed verification says why
    a.do_verify(case, passed=False, note="现场仍有坑洼", actor=u("bjt_grid"))
    assert (case.status, case.rework_count) == (Status.HANDLING, 1)
    handle_clocks = case.clocks.filter(stage=Stage.HANDLE).order_by("started_at")
    assert handle_clocks.count() == 2
    newest = handle_clocks.last()
    assert newest is not None
    assert newest.state == "running"

    a.do_reply(case, reply="已重新修复", actor=u("tx_cg_handler"))
    a.do_verify(case, passed=True, actor=u("bjt_grid"))
    with pytest.raises(PermissionDenied):
        a.do_revisit(
            case, channel="phone", resolution="resolved", satisfaction="satisfied", actor=u("tx_cg_handler")
        )
    a.do_revisit(
        case,
        channel="phone",
        resolution="partly",
        satisfaction="unsatisfied",
        comment="仍有积水",
        actor=u("tx_hotline"),
    )
    with pytest.raises(PermissionDenied):  # reopening needs the oversight office
        a.do_reopen(case, reason="群众不满意", actor=u("tx_hotline"))
    a.do_reopen(case, reason="群众不满意，重办", actor=u("tx_supervisor"))
    assert (case.status, case.reopen_count, case.lead_unit_id) == (
        Status.HANDLING,
        1,
        unit(world, "430103-cg").pk,
    )
    assert case.closed_at is None

    a.do_reply(case, reply="已彻底处理", actor=u("tx_cg_handler"))
    a.do_verify(case, passed=True, actor=u("bjt_grid"))
    a.do_revisit(
        case, channel="phone", resolution="resolved", satisfaction="satisfied", actor=u("tx_hotline")
    )
    with pytest.raises(ValidationError):  # satisfied: nothing to reopen
        a.do_reopen(case, reason="再次重办", actor=u("tx_supervisor"))


def test_reopen_to_another_unit_and_caps(world: World) -> None:
    catalog = build_catalog()
    catalog.road.reopen_cap = 1
    catalog.road.save()
    u = world.u
    case = new_case(world)
    a.do_register(case, category=catalog.road, actor=u("tx_hotline"))
    a.do_dispatch(case, lead=unit(world, "430103-zj"), actor=u("tx_dispatcher"))
    a.do_accept(case, actor=u("tx_zj_handler"))
    a.do_reply(case, reply="已答复", actor=u("tx_zj_handler"))
    a.do_verify(case, passed=True, actor=u("tx_hotline"))
    a.do_revisit(
        case,
        channel="sms",
        resolution="unresolved",
        satisfaction="unsatisfied",
        comment="派错单位",
        actor=u("tx_hotline"),
    )
    a.do_reopen(case, reason="派单错误，改派", to_dispatch=True, actor=u("tx_supervisor"))
    assert (case.status, case.lead_unit, case.jurisdiction.code) == (Status.REGISTERED, None, "430103")
    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=u("tx_dispatcher"))
    a.do_accept(case, actor=u("tx_cg_handler"))
    a.do_reply(case, reply="已处理", actor=u("tx_cg_handler"))
    a.do_verify(case, passed=True, actor=u("tx_hotline"))
    a.do_revisit(
        case,
        channel="phone",
        resolution="unresolved",
        satisfaction="unsatisfied",
        comment="还是没好",
        actor=u("tx_hotline"),
    )
    with pytest.raises(ValidationError) as exc:
        a.do_reopen(case, reason="再重办", actor=u("tx_supervisor"))
    assert "1" in str(exc.value)  # the cap
    catalog.road.allow_reopen = False
    catalog.road.save()
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        a.do_reopen(case, reason="再重办", actor=u("tx_supervisor"))


def test_merge_and_split(world: World) -> None:
    catalog = build_catalog()
    u = world.u
    master = new_case(world, reporter_name="李四", reporter_phone="13911112222")
    duplicate = new_case(world, reporter_name="王五", reporter_phone="13933334444")
    with pytest.raises(ValidationError):
        a.do_merge(duplicate, master=duplicate, actor=u("tx_hotline"))
    a.do_merge(duplicate, master=master, reason="同一路口", actor=u("tx_hotline"))
    assert duplicate.status == Status.MERGED
    assert duplicate.duplicate_of == master
    # The master keeps every resident for the revisit.
    assert set(master.duplicates.values_list("reporter_name", flat=True)) == {"王五"}

    combined = new_case(world, title="路面塌陷且有违建", description="路口塌陷，旁边还有违章搭建")
    a.do_register(combined, category=catalog.road, actor=u("tx_hotline"))
    children = a.do_split(
        combined,
        parts=[
            {"title": "路面塌陷", "description": "路口塌陷", "category": catalog.road},
            {"title": "违章搭建", "description": "旁边违建", "category": catalog.illegal},
        ],
        actor=u("tx_dispatcher"),
    )
    combined.refresh_from_db()
    assert combined.status == Status.SPLIT
    assert [c.status for c in children] == [Status.REGISTERED, Status.REGISTERED]
    assert {c.parent_id for c in children} == {combined.pk}
    assert all(c.reporter_phone == "13812345678" and c.number != combined.number for c in children)
    assert children[1].clocks.filter(stage=Stage.DISPATCH, state="running").exists()


def test_outsiders_cannot_act(world: World) -> None:
    catalog = build_catalog()
    u = world.u
    case = new_case(world)
    for username in ("yh_dispatcher", "yh_cg_handler", "bjt_building", "tx_leader", "nobody"):
        with pytest.raises(PermissionDenied):
            a.do_register(case, category=catalog.road, actor=u(username))
    assert Case.objects.get(pk=case.pk).version == 1
    with pytest.raises(PermissionDenied):  # 雨花区's hotline desk cannot take in a case in 天心区
        new_case(world, actor="yh_dispatcher")
    a.do_register(case, category=catalog.road, actor=u("tx_hotline"))
    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=u("tx_dispatcher"))
    with pytest.raises(PermissionDenied):  # a handler of another unit
        a.do_accept(case, actor=u("tx_zj_handler"))
    with pytest.raises(PermissionDenied):  # a unit handler is not a dispatch desk
        a.do_urge(case, note="快", actor=u("tx_cg_handler"))
    for username, sees in (
        ("tx_cg_handler", True),
        ("tx_zj_handler", False),
        ("yh_cg_handler", False),
        ("bjt_building", True),
        ("pzj_window", True),
        ("yh_admin", False),
    ):
        assert visible_cases(u(username)).filter(pk=case.pk).exists() is sees, username


def test_a_point_outside_every_cell_needs_a_place(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        new_case(world, point=(100.0, 20.0))
    assert "location" in exc.value.message_dict
    case = new_case(world, point=(100.0, 20.0), jurisdiction=world.j("430103004001"))
    assert case.origin.code == "430103004001"
    assert case.grid_cell is None
    assert BJT_POINT  # the default point lies in a cell (used everywhere else)
