"""The transition table, walked exhaustively: from every state, every action either succeeds (when the
table allows it) and appends exactly one event per status change, or is refused with TransitionNotAllowed
and changes nothing — not the case row, not its events, clocks or assignments."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from civicgrid.cases import actions as a
from civicgrid.cases.models import Case, CaseAssignment, CaseClock, CaseEvent, ExtensionRequest
from civicgrid.cases.workflow import TRANSITIONS, Action, Status, TransitionNotAllowed, targets
from tests.cases.helpers import Catalog, assist_of, build_catalog, new_case, reach, unit
from tests.world import World


def _assist(case: Case) -> CaseAssignment:
    found = CaseAssignment.objects.filter(case=case, role="assist").order_by("-is_current", "-pk").first()
    return found or CaseAssignment(pk=0, case=case)  # a refused call still needs an argument


def _pending_request(case: Case) -> ExtensionRequest:
    request = ExtensionRequest.objects.filter(case=case, status="pending").first()
    if request is None and case.status == Status.HANDLING:
        return a.do_request_extension(case, amount=1, reason="需协调", time_unit="work_day", actor=None)
    if request is None:  # a refused call still needs an argument; any request row will do
        request = ExtensionRequest(pk=0, case=case)
    return request


def _reply(w: World, c: Catalog, case: Case) -> Any:
    assist = assist_of(case)
    a.do_assist_accept(case, assignment=assist, actor=None)
    a.do_assist_reply(case, assignment=assist, reply="已配合", actor=None)
    return a.do_reply(case, reply="已办结", actor=None)


def _reply_unprepared(w: World, c: Catalog, case: Case) -> Any:
    return a.do_reply(case, reply="已办结", actor=None)


# How to perform each action on a case with plausible arguments (and what it needs beforehand).
PERFORM: dict[Action, Callable[[World, Catalog, Case], Any]] = {
    Action.ANSWER_DIRECTLY: lambda w, c, case: a.do_answer_directly(case, answer="答复", actor=None),
    Action.REQUEST_CONFIRMATION: lambda w, c, case: a.do_request_confirmation(case, actor=None),
    Action.REGISTER: lambda w, c, case: a.do_register(case, category=c.road, actor=None),
    Action.VOID: lambda w, c, case: a.do_void(case, reason="不符合立案条件", actor=None),
    Action.MERGE: lambda w, c, case: a.do_merge(case, master=new_case(w, actor=None), actor=None),
    Action.SPLIT: lambda w, c, case: a.do_split(
        case,
        parts=[
            {"title": "一", "description": "第一件", "category": c.road},
            {"title": "二", "description": "第二件", "category": c.road},
        ],
        actor=None,
    ),
    Action.DISPATCH: lambda w, c, case: a.do_dispatch(case, lead=unit(w, "430103-cg"), actor=None),
    Action.ACCEPT: lambda w, c, case: a.do_accept(case, actor=None),
    Action.REQUEST_RETURN: lambda w, c, case: a.do_request_return(case, reason="非本单位职责", actor=None),
    Action.APPROVE_RETURN: lambda w, c, case: a.do_approve_return(case, actor=None),
    Action.REJECT_RETURN: lambda w, c, case: a.do_reject_return(case, note="属你单位职责", actor=None),
    Action.ASSIGN_DOWN: lambda w, c, case: a.do_assign_down(case, to=w.j("430103002"), actor=None),
    Action.ESCALATE: lambda w, c, case: a.do_escalate(case, reason="超出权限", actor=None),
    Action.REQUEST_EXTENSION: lambda w, c, case: a.do_request_extension(
        case, amount=1, reason="需协调", time_unit="work_day", actor=None
    ),
    Action.DECIDE_EXTENSION: lambda w, c, case: a.do_decide_extension(
        case, request=_pending_request(case), approve=True, actor=None
    ),
    Action.AWAIT_RESIDENT: lambda w, c, case: a.do_await_resident(case, note="待补充", actor=None),
    Action.RESIDENT_RESPONDED: lambda w, c, case: a.do_resident_responded(case, actor=None),
    Action.SUSPEND: lambda w, c, case: a.do_suspend(case, reason="等待裁定", actor=None),
    Action.RESUME: lambda w, c, case: a.do_resume(case, actor=None),
    Action.COMPLETE_MILESTONE: lambda w, c, case: a.do_complete_milestone(case, seq=0, actor=None),
    Action.ASSIST_ACCEPT: lambda w, c, case: a.do_assist_accept(case, assignment=_assist(case), actor=None),
    Action.ASSIST_RETURN: lambda w, c, case: a.do_assist_return(
        case, assignment=_assist(case), reason="非协办职责", actor=None
    ),
    Action.ASSIST_REPLY: lambda w, c, case: (
        a.do_assist_accept(case, assignment=_assist(case), actor=None)
        if case.status in TRANSITIONS[Action.ASSIST_ACCEPT].sources
        else None,
        a.do_assist_reply(case, assignment=_assist(case), reply="已配合", actor=None),
    ),
    Action.SUPERVISE: lambda w, c, case: a.do_supervise(case, opinion="请加快办理", actor=None),
    Action.URGE: lambda w, c, case: a.do_urge(case, note="请尽快签收", actor=None),
    Action.REPLY: lambda w, c, case: (_reply if case.status == Status.HANDLING else _reply_unprepared)(
        w, c, case
    ),
    Action.VERIFY: lambda w, c, case: a.do_verify(case, passed=True, actor=None),
    Action.REVISIT: lambda w, c, case: a.do_revisit(
        case, channel="phone", resolution="resolved", satisfaction="satisfied", actor=None
    ),
    Action.REOPEN: lambda w, c, case: a.do_reopen(case, reason="群众不满意", actor=None),
    Action.FORCE_CLOSE: lambda w, c, case: a.do_force_close(case, reason="诉求不合理，已解释", actor=None),
    Action.WITHDRAW: lambda w, c, case: a.do_withdraw(case, reason="群众撤回", actor=None),
    Action.ARCHIVE: lambda w, c, case: a.do_archive(case, actor=None),
}
assert set(PERFORM) == set(TRANSITIONS), "every action in the table has a way to perform it here"


def _snapshot(case: Case) -> tuple[Any, ...]:
    row = dict(Case.objects.filter(pk=case.pk).values().get())
    row.pop("updated_at")
    return (
        row,
        list(CaseEvent.objects.filter(case=case).values_list("seq", "code")),
        list(CaseClock.objects.filter(case=case).values_list("pk", "state", "deadline_at")),
        list(CaseAssignment.objects.filter(case=case).values_list("pk", "status", "is_current")),
        Case.objects.filter(parent=case).count(),
    )


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_every_action_from(status: Status, world: World) -> None:
    catalog = build_catalog()
    case = reach(status, world, catalog)
    for action, transition in TRANSITIONS.items():
        with transaction.atomic():
            fresh = Case.objects.get(pk=case.pk)
            before = _snapshot(fresh)
            events_before = fresh.version
            if status in transition.sources:
                PERFORM[action](world, catalog, fresh)
                after = Case.objects.get(pk=case.pk)
                expected = targets(action) or {status}
                assert after.status in expected, (action, status, after.status)
                assert after.version > events_before
                last = CaseEvent.objects.filter(case=after).order_by("-seq").first()
                assert last is not None
                assert last.seq == after.version
                codes = set(
                    CaseEvent.objects.filter(case=after, seq__gt=events_before).values_list("code", flat=True)
                )
                assert str(action) in codes, (action, codes)
            else:
                with pytest.raises(TransitionNotAllowed):
                    PERFORM[action](world, catalog, fresh)
                assert _snapshot(Case.objects.get(pk=case.pk)) == before, (action, status)
            transaction.set_rollback(True)


def test_event_history_is_gap_free_and_ordered(world: World) -> None:
    catalog = build_catalog()
    case = reach(Status.ARCHIVED, world, catalog)
    seqs = list(
        CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", "from_status", "to_status")
    )
    assert [s for s, _, _ in seqs] == list(range(1, case.version + 1))
    # Each event starts where the previous one ended.
    for (_, _, previous_to), (_, from_status, _) in itertools.pairwise(seqs):
        assert from_status == previous_to
    assert seqs[-1][2] == Status.ARCHIVED
