"""The case workflow: states, their groups, and the one transition table every action enforces.

Read with ../shared/reference/workflow.md §2. The table below is the only place that says which action may
move a case from which state to which; actions call ``check_transition`` before they write, templates and
the API read ``allowed_actions`` to offer buttons. Who may perform an action is said here too (capability
and *scope*); ``civicgrid.accounts.permissions.case_action_allowed`` evaluates it against the user's grants.

Scopes:
- ``level``: a grant whose subtree contains the case's current level jurisdiction (the dispatch desk that
  owns the case now). A higher level may always step in; a lower one loses the case when it is escalated.
- ``lead_unit``: a grant for the case's current lead unit.
- ``assist_unit``: a grant for the unit of the co-handling assignment being acted on.
- ``location``: a grant whose subtree contains where the case happened (grid workers verify on site).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Status(models.TextChoices):
    RECEIVED = "received", _("received")  # 已受理
    CONFIRMING = "confirming", _("confirming on site")  # 核实中
    REGISTERED = "registered", _("registered")  # 已立案, waiting for dispatch at its level
    DISPATCHED = "dispatched", _("dispatched")  # 待签收
    RETURN_REQUESTED = "return_requested", _("return requested")  # 退单审核
    HANDLING = "handling", pgettext_lazy("case status", "handling")  # 办理中
    WAITING = "waiting", _("waiting for the resident")  # 待群众补充: clocks paused
    SUSPENDED = "suspended", _("suspended")  # 挂起 (approved): clocks paused
    REPLIED = "replied", _("replied")  # 已答复, waiting for verification (核查)
    RESOLVED = "resolved", _("resolved")  # 已办结 (verified), waiting for the revisit
    REVISITED = "revisited", _("revisited")  # 已回访
    ARCHIVED = "archived", _("archived")  # 已归档, read-only
    DIRECT_ANSWERED = "direct_answered", _("answered directly")  # 直接答复 at intake
    VOID = "void", _("not registered")  # 不予立案
    MERGED = "merged", _("merged")  # 已并案 into a master case
    SPLIT = "split", pgettext_lazy("case status", "split")  # 已拆分 into child cases, which carry the work
    WITHDRAWN = "withdrawn", _("withdrawn")  # 已撤回


class Group(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


GROUPS: dict[Group, frozenset[Status]] = {
    Group.OPEN: frozenset(
        {
            Status.RECEIVED,
            Status.CONFIRMING,
            Status.REGISTERED,
            Status.DISPATCHED,
            Status.RETURN_REQUESTED,
            Status.HANDLING,
            Status.WAITING,
            Status.SUSPENDED,
            Status.REPLIED,
        }
    ),
    # Done = 结案 for the statistics: verified, revisited, archived or answered at intake.
    Group.DONE: frozenset({Status.RESOLVED, Status.REVISITED, Status.ARCHIVED, Status.DIRECT_ANSWERED}),
    # Dropped cases leave the population of 应结案数 (a split parent is counted through its children).
    Group.DROPPED: frozenset({Status.VOID, Status.MERGED, Status.SPLIT, Status.WITHDRAWN}),
}
assert set().union(*GROUPS.values()) == set(Status), "every status belongs to a group"
GROUP_OF: dict[str, Group] = {status: group for group, members in GROUPS.items() for status in members}

# States in which the case's clocks stand still (pauses push deadlines by the paused time).
PAUSED: frozenset[Status] = frozenset({Status.WAITING, Status.SUSPENDED})


def in_group(*groups: Group) -> list[str]:
    """Status values of the groups, for ``status__in`` filters (never hand-written lists of states)."""
    return sorted(s.value for g in groups for s in GROUPS[g])


class Action(models.TextChoices):
    """Every action on a case. The value is the stable event code stored in CaseEvent.code."""

    CREATE = "create", _("take in")  # 受理
    ANSWER_DIRECTLY = "answer_directly", _("answer directly")  # 直接答复
    REQUEST_CONFIRMATION = "request_confirmation", _("request on-site confirmation")  # 核实
    REGISTER = "register", _("register")  # 立案
    VOID = "void", _("refuse to register")  # 不予立案
    MERGE = "merge", _("merge into another case")  # 并案
    SPLIT = "split", pgettext_lazy("case action", "split")  # 拆分
    DISPATCH = "dispatch", _("dispatch")  # 派单
    ACCEPT = "accept", _("accept")  # 签收
    REQUEST_RETURN = "request_return", _("request return")  # 退单
    APPROVE_RETURN = "approve_return", _("approve return")  # 同意退单
    REJECT_RETURN = "reject_return", _("reject return (ruling)")  # 审定: the unit becomes the final owner
    ASSIGN_DOWN = "assign_down", _("assign to a lower level")  # 下派
    ESCALATE = "escalate", _("escalate")  # 上报
    REQUEST_EXTENSION = "request_extension", _("request extension")  # 申请延期
    DECIDE_EXTENSION = "decide_extension", _("decide extension")  # 延期审批
    AWAIT_RESIDENT = "await_resident", _("wait for the resident")  # 待群众补充
    RESIDENT_RESPONDED = "resident_responded", _("resident responded")
    SUSPEND = "suspend", _("suspend")  # 挂起
    RESUME = "resume", _("resume")
    COMPLETE_MILESTONE = "complete_milestone", _("complete a stage")  # 阶段办结 (staged limits)
    ASSIST_ACCEPT = "assist_accept", _("accept as co-handler")  # 协办签收
    ASSIST_RETURN = "assist_return", _("decline as co-handler")  # 协办退回
    ASSIST_REPLY = "assist_reply", _("reply as co-handler")  # 协办回复
    SUPERVISE = "supervise", _("supervise")  # 督办
    URGE = "urge", _("urge")  # 催办
    REPLY = "reply", _("reply")  # 办结答复
    VERIFY = "verify", _("verify")  # 核查 pass → resolved; fail → rework (返工)
    REVISIT = "revisit", _("revisit")  # 回访
    REOPEN = "reopen", _("reopen")  # 重办
    FORCE_CLOSE = "force_close", _("force close")  # 强制结案
    WITHDRAW = "withdraw", _("withdraw")  # 撤回
    ARCHIVE = "archive", _("archive")  # 归档


class Cap(StrEnum):
    """Case capabilities (granted per role in civicgrid.accounts.permissions.ROLE_CASE_CAPABILITIES)."""

    REPORT = "report"  # take in a case (create)
    INTAKE = "intake"  # register, answer directly, void, withdraw
    DISPATCH = "dispatch"  # dispatch, rule on returns, escalate, merge, split, archive
    HANDLE = "handle"  # sign for, handle, return, reply (as the lead or co-handling unit)
    VERIFY = "verify"  # 核查 on site or by phone
    REVISIT = "revisit"  # 回访
    SUPERVISE = "supervise"  # 督办, extensions, suspension, reopen approval, forced closure


class Scope(StrEnum):
    LEVEL = "level"
    LEAD_UNIT = "lead_unit"
    ASSIST_UNIT = "assist_unit"
    LOCATION = "location"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None  # None: the status does not change (a side record, a flag or a counter)
    by: tuple[tuple[Cap, Scope], ...]  # any one of these suffices; the system (actor None) may do anything


def _t(sources: set[Status], target: Status | None, *by: tuple[Cap, Scope]) -> Transition:
    return Transition(frozenset(sources), target, by)


_OPEN = set(GROUPS[Group.OPEN])
_BEFORE_REPLY = {
    Status.RECEIVED,
    Status.CONFIRMING,
    Status.REGISTERED,
    Status.DISPATCHED,
    Status.RETURN_REQUESTED,
    Status.HANDLING,
    Status.WAITING,
    Status.SUSPENDED,
}
_WITH_UNIT = {Status.DISPATCHED, Status.HANDLING, Status.WAITING, Status.SUSPENDED, Status.RETURN_REQUESTED}
_INTAKE = (Cap.INTAKE, Scope.LEVEL)
_DISPATCH = (Cap.DISPATCH, Scope.LEVEL)
_LEAD = (Cap.HANDLE, Scope.LEAD_UNIT)
_ASSIST = (Cap.HANDLE, Scope.ASSIST_UNIT)
_SUPERVISE = (Cap.SUPERVISE, Scope.LEVEL)

# The transition table. Targets that depend on data (verify pass/fail, reopen to the same or another unit)
# list every possible target in RESULTS below; the action picks one and check_transition validates it.
TRANSITIONS: dict[Action, Transition] = {
    Action.ANSWER_DIRECTLY: _t({Status.RECEIVED}, Status.DIRECT_ANSWERED, _INTAKE, _DISPATCH),
    Action.REQUEST_CONFIRMATION: _t({Status.RECEIVED}, Status.CONFIRMING, _INTAKE, _DISPATCH),
    Action.REGISTER: _t({Status.RECEIVED, Status.CONFIRMING}, Status.REGISTERED, _INTAKE, _DISPATCH),
    Action.VOID: _t({Status.RECEIVED, Status.CONFIRMING}, Status.VOID, _INTAKE, _DISPATCH),
    Action.MERGE: _t({Status.RECEIVED, Status.REGISTERED}, Status.MERGED, _INTAKE, _DISPATCH),
    Action.SPLIT: _t({Status.RECEIVED, Status.REGISTERED}, Status.SPLIT, _DISPATCH),
    Action.DISPATCH: _t({Status.REGISTERED}, Status.DISPATCHED, _DISPATCH),
    Action.ACCEPT: _t({Status.DISPATCHED}, Status.HANDLING, _LEAD),
    Action.REQUEST_RETURN: _t({Status.DISPATCHED, Status.HANDLING}, Status.RETURN_REQUESTED, _LEAD),
    Action.APPROVE_RETURN: _t({Status.RETURN_REQUESTED}, Status.REGISTERED, _DISPATCH),
    Action.REJECT_RETURN: _t({Status.RETURN_REQUESTED}, Status.DISPATCHED, _DISPATCH),
    Action.ASSIGN_DOWN: _t({Status.REGISTERED}, Status.REGISTERED, _DISPATCH),
    Action.ESCALATE: _t(
        {Status.REGISTERED, Status.DISPATCHED, Status.HANDLING}, Status.REGISTERED, _DISPATCH, _LEAD
    ),
    Action.REQUEST_EXTENSION: _t({Status.HANDLING}, None, _LEAD),
    Action.DECIDE_EXTENSION: _t({Status.HANDLING, Status.WAITING, Status.SUSPENDED}, None, _SUPERVISE),
    Action.AWAIT_RESIDENT: _t({Status.HANDLING}, Status.WAITING, _LEAD),
    Action.RESIDENT_RESPONDED: _t({Status.WAITING}, Status.HANDLING, _LEAD, _INTAKE),
    Action.SUSPEND: _t({Status.HANDLING}, Status.SUSPENDED, _SUPERVISE),
    Action.RESUME: _t({Status.SUSPENDED}, Status.HANDLING, _SUPERVISE),
    Action.COMPLETE_MILESTONE: _t({Status.HANDLING}, None, _LEAD),
    Action.ASSIST_ACCEPT: _t(_WITH_UNIT, None, _ASSIST),
    Action.ASSIST_RETURN: _t(_WITH_UNIT, None, _ASSIST),
    Action.ASSIST_REPLY: _t(_WITH_UNIT, None, _ASSIST),
    Action.SUPERVISE: _t(_OPEN, None, _SUPERVISE),
    Action.URGE: _t(_OPEN, None, _SUPERVISE, _DISPATCH),
    Action.REPLY: _t({Status.HANDLING}, Status.REPLIED, _LEAD),
    Action.VERIFY: _t({Status.REPLIED}, Status.RESOLVED, (Cap.VERIFY, Scope.LOCATION), _DISPATCH),
    Action.REVISIT: _t({Status.RESOLVED}, Status.REVISITED, (Cap.REVISIT, Scope.LEVEL)),
    Action.REOPEN: _t({Status.REVISITED}, Status.HANDLING, _SUPERVISE),
    Action.FORCE_CLOSE: _t(_OPEN, Status.RESOLVED, _SUPERVISE),
    Action.WITHDRAW: _t(_BEFORE_REPLY, Status.WITHDRAWN, _INTAKE),
    Action.ARCHIVE: _t(
        {Status.RESOLVED, Status.REVISITED, Status.DIRECT_ANSWERED}, Status.ARCHIVED, _DISPATCH
    ),
}

# Actions whose target depends on the decision: every allowed target, the table's ``target`` first.
RESULTS: dict[Action, frozenset[Status]] = {
    Action.VERIFY: frozenset({Status.RESOLVED, Status.HANDLING}),  # pass / fail (返工)
    Action.REOPEN: frozenset({Status.HANDLING, Status.REGISTERED}),  # same unit / re-dispatch elsewhere
}

assert set(TRANSITIONS) == set(Action) - {Action.CREATE}, "every action but create is in the table"


class TransitionNotAllowed(Exception):  # noqa: N818 — the style guide's name
    """The action is not allowed from the case's current status (nothing was changed)."""

    def __init__(self, action: Action, status: str) -> None:
        self.action = action
        self.status = status
        super().__init__(f"{action} is not allowed from {status}")


def targets(action: Action) -> frozenset[Status]:
    transition = TRANSITIONS[action]
    if action in RESULTS:
        return RESULTS[action]
    return frozenset({transition.target}) if transition.target else frozenset()


def check_transition(action: Action, status: str, target: Status | None = None) -> Status | None:
    """Raise TransitionNotAllowed unless ``action`` may run from ``status`` (to ``target`` when given).

    Returns the status the case will have afterwards (None: unchanged)."""
    transition = TRANSITIONS[action]
    if status not in transition.sources:
        raise TransitionNotAllowed(action, status)
    if target is None:
        return transition.target
    if target not in targets(action):
        raise TransitionNotAllowed(action, status)
    return target


def allowed_from(status: str) -> list[Action]:
    """The actions whose sources include ``status`` (before permissions), in table order."""
    return [action for action, t in TRANSITIONS.items() if status in t.sources]
