"""Walking one demo case through its life with the real actions, by the real personas, at plausible times.

Each step freezes the clock (civicgrid.lib.clock) at its own instant: intake at the message's time,
registration and dispatch within minutes or hours, acceptance within hours, the reply at the real reply
time, verification the next working day, the revisit the day after, archiving some days later. The steps
before the reply are squeezed into the real delay when it was short, so a reply never precedes its own
acceptance. A step that would fall after the cut-off (now) is not taken: the case stays in the state it
reached, which is how the recent cases end up open. Overdue clocks are never faked — a clock is late
exactly when the real reply came after the limit.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import shapely
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.cases import clocks
from civicgrid.cases.actions import (
    do_accept,
    do_answer_directly,
    do_approve_return,
    do_archive,
    do_assign_down,
    do_assist_accept,
    do_assist_reply,
    do_await_resident,
    do_complete_milestone,
    do_create_case,
    do_decide_extension,
    do_dispatch,
    do_escalate,
    do_merge,
    do_register,
    do_reject_return,
    do_reopen,
    do_reply,
    do_request_confirmation,
    do_request_extension,
    do_request_return,
    do_resident_responded,
    do_resume,
    do_revisit,
    do_split,
    do_supervise,
    do_suspend,
    do_urge,
    do_verify,
    do_void,
    do_withdraw,
)
from civicgrid.cases.demo_sources import Message
from civicgrid.cases.demo_staff import Staff
from civicgrid.cases.models import AssignmentRole, Case, CaseAssignment, Category, Stage
from civicgrid.cases.workflow import GROUPS, Group, Status
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.models import Jurisdiction, Level, Unit
from civicgrid.lib import clock
from civicgrid.lib.geometry import from_geojson
from civicgrid.workcalendar.calendar import current_calendar

# Operational notes of the staff (the residents' texts and the replies are the real ones).
VOID_REASONS = (
    "经核实，反映的问题已自行解决，不予立案。",
    "不属于本区管辖范围，已告知来电人向有关部门反映。",
    "诉求人信息不全，多次联系未果，无法核实。",
    "属民事纠纷，已告知来电人通过诉讼途径解决。",
)
WITHDRAW_REASONS = ("来电人表示问题已解决，申请撤回。", "来电人表示已与对方协商一致，申请撤回。")
RETURN_REASON = "经核查，该诉求不属于本单位职责范围，申请退回重新派单。"
RULING_NOTE = "经审定，该事项属你单位职责，请依职责办理，不得再退。"
UNSATISFIED_COMMENTS = (
    "群众表示问题未得到实际解决。",
    "群众认为答复内容与诉求不符。",
    "群众表示处理结果只是部分解决。",
    "群众对办理时限过长不满意。",
)
REWORK_NOTE = "现场核查发现问题未整改到位，退回返工。"
INTERIM_REPLY = "已安排工作人员到现场处理，问题已整改。"
REWORK_REPLY = "已按核查意见返工整改，问题已处理到位，并已与诉求人沟通。"
REOPEN_REPLY = "根据回访意见重新办理：已再次到现场核实处理，并与诉求人当面沟通，问题已解决。"
ESCALATION_REASONS = {
    Level.COMMUNITY: "社区无法处置，上报街道协调。",
    Level.TOWNSHIP: "需区级职能部门处理，上报区级。",
    Level.COUNTY: "涉及全市统筹，上报市级协调。",
}
OFFICE_START, OFFICE_END = time(9, 0), time(17, 30)
HOT_LIKES = 20  # a message with this many up-votes is a hot topic: the oversight office supervises it
EXTENSION_SHARE = 0.7  # of the handlers whose real reply would be late
EXTENSION_CAP_DAYS = 10  # the default extension_cap limit (0002_default_limits)


class CutoffError(Exception):
    """The next step would happen after the cut-off: the case stays in the state it has reached."""


@dataclass
class Plan:
    message: Message
    received_at: datetime
    replied_at: datetime | None  # the real reply time, moved into the demo window
    channel: str
    nature: str
    urgency: str
    category: Category
    alt_category: Category  # the best category of the second-best class (wrong dispatches, splits)
    cell: GridCell
    reporter_name: str
    reporter_phone: str
    anonymous: bool
    path: str  # see civicgrid.cases.demo.PATHS
    stop: str = ""  # an open state the case must stay in (the recent weeks)
    master_key: str = ""  # for "merge": the earlier similar message

    @property
    def intake_key(self) -> str:
        return f"demo:{self.message.source}:{self.message.id}"


class Walker:
    def __init__(
        self,
        staff: Staff,
        *,
        cutoff: datetime,
        unit_types: dict[int, str],
        rng_for: Callable[..., random.Random],
        cases: dict[str, Case],
        staged: frozenset[int] = frozenset(),
    ) -> None:
        self.staff = staff
        self.cutoff = cutoff
        self.unit_types = unit_types  # category pk → the 权责清单 unit type code (inherited)
        self.rng_for = rng_for  # DemoContext.rng
        self.cases = cases  # intake key → case, for merges
        self.staged = staged  # categories with staged handling limits (milestones)
        self.rng = random.Random(0)
        self.last = cutoff
        self.operator: User = staff.operators[0]
        self.clamp = False
        self.budget = timedelta(days=1)
        self.reworked = False
        # The calendar does not change during the replay: read it once, not on every step.
        self.calendar = current_calendar()

    # --- time ------------------------------------------------------------------------------------------

    def _at(self, when: datetime, *, clamp: bool = False) -> None:
        """Move the frozen clock to ``when`` (never backwards: a case's history stays ordered)."""
        when = max(when, self.last + timedelta(seconds=20))
        if when > self.cutoff:
            if not clamp or self.last + timedelta(seconds=40) > self.cutoff:
                raise CutoffError
            when = self.last + (self.cutoff - self.last) / 2
        self.last = when
        clock.set_frozen(when)

    def _soon(self, low: float, high: float, budget: timedelta | None = None, share: float = 0.05) -> None:
        """A step ``low``–``high`` minutes later, squeezed to ``share`` of ``budget`` when that is shorter."""
        delay = timedelta(minutes=self.rng.uniform(low, high))
        if budget is not None:
            delay = min(delay, budget * share)
        self._at(self.last + delay, clamp=self.clamp)

    def _next_office_day(self, after: datetime, days: int = 1) -> datetime:
        """Office hours on the ``days``-th working day after ``after`` (grid workers, revisits, archiving)."""
        day = timezone.localtime(after).date()
        while days:
            day += timedelta(days=1)
            days -= self.calendar.is_working_day(day)
        minutes = self.rng.uniform(0, (OFFICE_END.hour - OFFICE_START.hour) * 60)
        start = timezone.make_aware(datetime.combine(day, OFFICE_START))
        return start + timedelta(minutes=minutes)

    # --- who -------------------------------------------------------------------------------------------

    def _dispatcher(self, desk: Jurisdiction, plan: Plan) -> User:
        if desk.level == Level.CITY:
            return self.staff.city_dispatcher
        if desk.level == Level.COUNTY:
            return self.staff.county_dispatcher
        if desk.level == Level.TOWNSHIP:
            return self.staff.township_dispatchers[desk.code]
        return self.staff.cell_leaders[plan.cell.pk]  # the 网格长 runs the community's desk

    def _intake(self, case: Case, plan: Plan) -> User:
        if case.level == Level.TOWNSHIP:
            return self.staff.window_clerks[case.jurisdiction.code]
        if case.level == Level.COMMUNITY:
            return self.staff.cell_leaders[plan.cell.pk]
        return self.operator

    def _revisitor(self, case: Case) -> User:
        return (
            self.operator if case.level_path.startswith(self.staff.county.path) else self.staff.city_operator
        )

    def _in_county(self, case: Case) -> bool:
        return case.level_path.startswith(self.staff.county.path)

    def _unit(self, category: Category, plan: Plan) -> Unit:
        """The unit the 权责清单 gives for the category at the case's place (the command centre when none)."""
        type_code = self.unit_types.get(category.pk, "")
        unit = self.staff.unit_for(type_code, plan.cell.community) if type_code else None
        return unit or self.staff.units[f"{self.staff.county.code}-command_center"]

    def _county_unit(self, category: Category, plan: Plan) -> Unit:
        """Where a case escalated to the county goes: the category's county department, else the
        district's grid command centre, which coordinates the cases no single department owns."""
        unit = self._unit(category, plan)
        if unit.jurisdiction_id == self.staff.county.pk:
            return unit
        return self.staff.units[f"{self.staff.county.code}-command_center"]

    # --- the walk --------------------------------------------------------------------------------------

    def walk(self, plan: Plan) -> Case:
        self.rng = self.rng_for("walk", plan.message.key)
        self.operator = self.rng.choice(self.staff.operators)
        self.reworked = False
        self.last = plan.received_at - timedelta(seconds=30)
        self.clamp = bool(plan.stop)  # a case that must reach an open state squeezes into the time left
        end = plan.replied_at or min(self.cutoff, plan.received_at + timedelta(days=20))
        self.budget = max(end - plan.received_at, timedelta(minutes=2))
        with clock.frozen(plan.received_at):
            self._at(plan.received_at)
            case = self._create(plan)
            with contextlib.suppress(CutoffError):
                self._life(case, plan)
        return case

    def _create(self, plan: Plan) -> Case:
        m = plan.message
        creator: User | None
        if plan.channel == "hotline":
            creator = self.operator
        elif plan.channel == "window":
            creator = self.staff.window_clerks[plan.cell.community.parent.code]  # type: ignore[union-attr]
        elif plan.channel == "grid":
            creator = self.staff.cell_workers[plan.cell.pk]
        else:
            creator = None  # web and app: the resident's own submission
        lon, lat = _point_in(plan.cell, self.rng_for("point", m.key))
        township = plan.cell.community.parent
        case, _created = do_create_case(
            channel=plan.channel,
            nature=plan.nature,
            title=m.title[:200],
            description=m.body,
            urgency=plan.urgency,
            address=f"{self.staff.county.name}{township.name if township else ''}{plan.cell.community.name}",
            lon=lon,
            lat=lat,
            reporter_name="" if plan.anonymous else plan.reporter_name,
            reporter_phone="" if plan.anonymous else plan.reporter_phone,
            is_anonymous=plan.anonymous,
            intake_key=plan.intake_key,
            actor=creator,
        )
        self.cases[plan.intake_key] = case
        return case

    def _life(self, case: Case, plan: Plan) -> None:
        path, budget = plan.path, self.budget
        if path == "direct":
            self._soon(3, 40, budget, 0.5)
            do_answer_directly(case, answer=plan.message.reply, actor=self.operator)
            if self.rng.random() < 0.4:
                self._at(self._next_office_day(self.last, self.rng.randint(3, 8)))
                do_archive(case, actor=self.staff.county_dispatcher)
            return
        if path == "merge":
            self._soon(5, 60, budget)
            master = self.cases.get(plan.master_key)
            if master is not None and master.status not in GROUPS[Group.DROPPED]:
                do_merge(
                    case,
                    master=master,
                    reason=f"与{master.number}反映问题相同，并案办理。",
                    actor=self.operator,
                )
            else:
                do_void(case, reason="重复诉求，已告知来电人原案件的办理进度。", actor=self.operator)
            return
        if plan.stop == "received":
            return
        confirm = self.rng.random()
        if plan.stop == "confirming" or (path == "void" and confirm < 0.5) or confirm < 0.03:
            self._soon(5, 90, budget)
            do_request_confirmation(case, note="请网格员到现场核实情况。", actor=self._intake(case, plan))
            if plan.stop == "confirming":
                return
            self._at(
                self.last + min(timedelta(hours=self.rng.uniform(2, 20)), budget * 0.1), clamp=self.clamp
            )
        if path == "void":
            self._soon(20, 180, budget)
            do_void(case, reason=self.rng.choice(VOID_REASONS), actor=self.operator)
            return
        self._soon(5, 90, budget)
        do_register(case, category=plan.category, actor=self._intake(case, plan))
        if plan.stop == "registered":
            return
        if path == "withdraw":
            self._soon(60, 24 * 60, budget, 0.2)
            do_withdraw(case, reason=self.rng.choice(WITHDRAW_REASONS), actor=self.operator)
            return
        if path == "split":
            self._split(case, plan)
            return
        self._handle(case, plan, plan.category)

    def _split(self, case: Case, plan: Plan) -> None:
        self._soon(20, 180, self.budget)
        parts = [plan.category, plan.alt_category]
        children = do_split(
            case,
            parts=[
                {
                    "title": f"{plan.message.title[:180]}（{c.name}）",
                    "description": plan.message.body,
                    "category": c,
                }
                for c in parts
            ],
            actor=self.staff.county_dispatcher,
        )
        start = self.last
        for child, category in zip(children, parts, strict=True):
            self.last = start  # the parts are handled side by side
            try:
                self._handle(child, plan, category)
            except CutoffError:
                continue

    # --- from registered to closed ---------------------------------------------------------------------

    def _escalate(self, case: Case, plan: Plan) -> None:
        """上报 by the desk that holds the case, to the level above."""
        self._soon(30, 240, self.budget)
        reason = ESCALATION_REASONS[Level(case.level)]
        do_escalate(case, reason=reason, actor=self._dispatcher(case.jurisdiction, plan))

    def _dispatch_to(self, case: Case, plan: Plan, unit: Unit, assists: tuple[Unit, ...] = ()) -> None:
        """From ``registered`` at the case's desk to ``dispatched`` to ``unit``: up the ladder while the unit
        lies outside the desk's area (转办 to the level that can send it), down to the township's desk for
        some local matters (属地管理), then 派单."""
        while not all(u.jurisdiction.path.startswith(case.level_path) for u in (unit, *assists)):
            self._escalate(case, plan)
        township = (
            unit.jurisdiction if unit.jurisdiction.level == Level.TOWNSHIP else unit.jurisdiction.parent
        )
        if (
            case.level == Level.COUNTY
            and unit.jurisdiction.level != Level.COUNTY
            and township is not None
            and all(a.jurisdiction.path.startswith(township.path) for a in assists)
            and self.rng.random() < 0.5
        ):
            self._soon(10, 120, self.budget)
            do_assign_down(
                case, to=township, reason="属地事项，交街道办理。", actor=self.staff.county_dispatcher
            )
        self._soon(10, 180, self.budget)
        do_dispatch(case, lead=unit, assists=assists, actor=self._dispatcher(case.jurisdiction, plan))

    def _wrong_unit(self, case: Case, plan: Plan, right: Unit) -> Unit | None:
        township_office = self.staff.unit_for("township_office", plan.cell.community)
        for unit in (
            self._unit(plan.alt_category, plan),
            township_office,
            self.staff.units.get(f"{self.staff.county.code}-cg"),
        ):
            if (
                unit is not None
                and unit.pk != right.pk
                and unit.jurisdiction.path.startswith(case.level_path)
            ):
                return unit
        return None

    def _handle(self, case: Case, plan: Plan, category: Category) -> None:
        path, budget = plan.path, self.budget
        unit = self._unit(category, plan)
        assists: tuple[Unit, ...] = ()
        if path == "joint":
            helper = self.staff.unit_for("township_office", plan.cell.community)
            if helper is not None and helper.pk != unit.pk:
                assists = (helper,)
        if path in ("esc2", "esc3"):
            # 小事不出村、大事不出镇: the community desk passes it up, then the township, (then the county).
            top = Level.CITY if path == "esc3" else Level.COUNTY
            while case.level != top:
                self._escalate(case, plan)
            unit = self._county_unit(category, plan)
            if top == Level.CITY:
                city_unit = self.staff.units.get(f"{self.staff.city.code}-{unit.unit_type.code}")
                if city_unit is not None:
                    unit = city_unit
                else:
                    self._soon(60, 24 * 60, budget, 0.1)
                    do_assign_down(
                        case,
                        to=self.staff.county,
                        reason="经市级协调，交由区级职能部门办理。",
                        actor=self.staff.city_dispatcher,
                    )
        first = unit
        if path == "esc1":
            first = self.staff.unit_for("township_office", plan.cell.community) or unit
            unit = self._county_unit(category, plan)
        elif path in ("return_approve", "return_ruling") or plan.stop == "return_requested":
            first = self._wrong_unit(case, plan, unit) or unit
        self._dispatch_to(case, plan, first, assists)
        if plan.stop == "dispatched":
            return
        if first.pk != unit.pk and path != "esc1":
            if self.rng.random() < 0.5:  # some units sign for it first and only then see it is not theirs
                self._soon(20, 240, budget)
                do_accept(case, actor=self.staff.handler(first))
            self._soon(30, 240, budget)
            do_request_return(case, reason=RETURN_REASON, basis="区权责清单", actor=self.staff.handler(first))
            if plan.stop == "return_requested":
                return
            self._soon(30, 300, budget)
            lead = CaseAssignment.objects.select_related("dispatched_from").get(
                case=case, is_current=True, role=AssignmentRole.LEAD
            )
            desk_dispatcher = self._dispatcher(lead.dispatched_from, plan)
            if path == "return_ruling":
                do_reject_return(case, note=RULING_NOTE, actor=desk_dispatcher)
                unit = first
            else:
                do_approve_return(case, note="同意退回，重新派单。", actor=desk_dispatcher)
                self._dispatch_to(case, plan, unit, assists)
        self._soon(20, 360, budget, 0.1)
        do_accept(case, actor=self.staff.handler(case.lead_unit or unit))
        if path == "esc1" and first.pk != unit.pk:
            self._soon(24 * 60, 3 * 24 * 60, budget, 0.15)
            do_escalate(
                case,
                reason="涉及多个职能部门，超出街道处置权限，申请上报区级协调。",
                actor=self.staff.handler(first),
            )
            self._dispatch_to(case, plan, unit)
            self._soon(20, 360, budget, 0.1)
            do_accept(case, actor=self.staff.handler(unit))
        if plan.stop == "handling":
            return
        lead_unit = case.lead_unit
        assert lead_unit is not None
        handler = self.staff.handler(lead_unit)
        self._while_handling(case, plan, handler)
        if plan.stop in ("waiting", "suspended"):
            return
        if plan.replied_at is None:
            raise CutoffError  # a message without a real reply: nobody answered it (yet)
        self._at(plan.replied_at)
        do_reply(case, reply=plan.message.reply, actor=handler)
        if plan.stop == "replied":
            return
        self._after_reply(case, plan, handler)

    def _while_handling(self, case: Case, plan: Plan, handler: User) -> None:
        """Between acceptance and the reply: co-handling, milestones, waiting, suspension, extensions,
        urging and supervision of late cases, and a first reply that fails verification (返工)."""
        path = plan.path
        end = plan.replied_at or min(self.cutoff, self.last + timedelta(days=30))
        window = max(end - self.last, timedelta(minutes=1))
        start = self.last

        def at_share(share: float) -> bool:
            """Move to ``share`` of the handling window; False when that is already past (skip the step)."""
            when = start + window * share
            if when <= self.last or when >= end - timedelta(minutes=5):
                return False
            self._at(when, clamp=self.clamp)
            return True

        assists = (
            list(CaseAssignment.objects.filter(case=case, is_current=True, role=AssignmentRole.ASSIST))
            if path == "joint"
            else []
        )
        for assignment in assists:
            if at_share(0.05):
                do_assist_accept(case, assignment=assignment, actor=self.staff.handler(assignment.unit))
        staged = case.category_id in self.staged and len(clocks.running(case, Stage.HANDLE)) > 1
        if staged and at_share(0.1):
            do_complete_milestone(case, seq=0, note="已责令停工。", actor=handler)
            if at_share(0.45):
                do_complete_milestone(case, seq=1, note="已立案处罚。", actor=handler)
        if plan.message.likes >= HOT_LIKES and self._in_county(case) and at_share(0.03):
            do_supervise(
                case,
                opinion=f"网民关注度高（点赞{plan.message.likes}），请加快办理并及时答复。",
                actor=self.staff.supervisor,
            )
        waits = plan.stop == "waiting" or (path == "waiting" and not plan.stop)
        if waits and (at_share(0.15) or plan.stop):
            do_await_resident(case, note="需诉求人补充提供相关证明材料。", actor=handler)
            if plan.stop:
                return
            if at_share(0.4):
                do_resident_responded(case, note="诉求人已补充材料。", actor=self.operator)
        suspends = plan.stop == "suspended" or (path == "suspended" and not plan.stop)
        if suspends and self._in_county(case) and (at_share(0.15) or plan.stop):
            do_suspend(case, reason="涉及诉讼，待法院判决后再行处理。", actor=self.staff.supervisor)
            if plan.stop:
                return
            if at_share(0.6):
                do_resume(case, note="法院已判决，恢复办理。", actor=self.staff.supervisor)
        if path in ("extension", "extension_refused") and self._in_county(case):
            self._extension(case, plan, handler, end, path == "extension")
        elif path == "normal" and self._in_county(case) and self._foresees_late(case, end):
            # Most units that see the real reply will be late ask for more time beforehand, as handlers do;
            # the rest are simply late (the portal's replies often took weeks).
            self._extension(case, plan, handler, end, approve=True)
        if plan.replied_at is not None and self._in_county(case):
            self._chase(case, plan, end)
        middle = start + window * 0.5
        check = self._next_office_day(middle)
        if path == "rework" and middle > self.last and check < end - timedelta(hours=2):
            # A first reply that fails verification; the real reply then comes after the rework.
            self._at(middle)
            do_reply(case, reply=INTERIM_REPLY, actor=handler)
            self._at(check)
            do_verify(case, passed=False, note=REWORK_NOTE, actor=self.staff.cell_workers[plan.cell.pk])
            self.reworked = True
        for assignment in assists:
            if at_share(0.9) or plan.replied_at is not None:
                do_assist_reply(
                    case,
                    assignment=assignment,
                    reply="已配合主办单位到现场核查处理。",
                    actor=self.staff.handler(assignment.unit),
                )

    def _handle_deadline(self, case: Case) -> datetime | None:
        running = clocks.running(case, Stage.HANDLE)
        return max((k.deadline_at for k in running), default=None)

    def _foresees_late(self, case: Case, end: datetime) -> bool:
        """The reply will miss the handling deadline by no more than the extension cap (10 working days),
        and this handler is one of the 70 % who ask in time."""
        deadline = self._handle_deadline(case)
        if deadline is None or end <= deadline or self.rng.random() >= EXTENSION_SHARE:
            return False
        return self.calendar.elapsed(deadline, end, "work_day") < EXTENSION_CAP_DAYS

    def _extension(self, case: Case, plan: Plan, handler: User, end: datetime, approve: bool) -> None:
        deadline = self._handle_deadline(case)
        if deadline is None or deadline <= self.last + timedelta(minutes=30):
            return
        when = min(
            self.last + (deadline - self.last) * self.rng.uniform(0.5, 0.9), end - timedelta(minutes=20)
        )
        if when <= self.last:
            return
        self._at(when, clamp=self.clamp)
        needed = self.calendar.elapsed(deadline, end, "work_day") if end > deadline else 1.0
        amount = min(EXTENSION_CAP_DAYS, max(1, math.ceil(needed) + 1))
        request = do_request_extension(
            case,
            amount=amount,
            reason="涉及多个部门协调，需延长办理时限。",
            time_unit="work_day",
            actor=handler,
        )
        decided = min(self.last + timedelta(hours=self.rng.uniform(1, 8)), self.last + (end - self.last) / 2)
        self._at(decided, clamp=self.clamp)
        do_decide_extension(
            case,
            request=request,
            approve=approve,
            note="同意延期。" if approve else "理由不充分，不予延期，请抓紧办理。",
            actor=self.staff.supervisor,
        )

    def _chase(self, case: Case, plan: Plan, end: datetime) -> None:
        """催办 the day after a missed deadline, 督办 when still unanswered a week later (one city's rule,
        ../shared/reference/workflow.md §7.3) — for the late replies only, as in the real record."""
        deadline = self._handle_deadline(case)
        if deadline is None or case.status != Status.HANDLING:
            return
        urge_at = deadline + timedelta(days=1)
        if urge_at < end - timedelta(hours=2) and self.rng.random() < 0.6:
            self._at(urge_at)
            do_urge(case, note="已超过办理时限，请尽快办结并答复群众。", actor=self.staff.county_dispatcher)
            supervise_at = deadline + timedelta(days=7)
            if supervise_at < end - timedelta(hours=2) and self.rng.random() < 0.5:
                self._at(supervise_at)
                do_supervise(
                    case,
                    opinion="超期未办结，请于3个工作日内办结并反馈。",
                    reply_due_at=supervise_at + timedelta(days=3),
                    actor=self.staff.supervisor,
                )

    def _in_time(self, case: Case, stage: Stage) -> None:
        """The next working day in office hours, but within the stage's limit: verification and revisits
        are prompt here, so only the real reply delays make cases late."""
        when = self._next_office_day(self.last)
        deadlines = [k.deadline_at for k in clocks.running(case, stage)]
        if deadlines:
            when = min(when, min(deadlines) - timedelta(minutes=self.rng.uniform(20, 120)))
        self._at(when, clamp=self.clamp)

    def _after_reply(self, case: Case, plan: Plan, handler: User) -> None:
        worker = self.staff.cell_workers[plan.cell.pk]
        self._in_time(case, Stage.VERIFY)
        if plan.path == "rework" and not self.reworked:  # the rework found after the real reply
            do_verify(case, passed=False, note=REWORK_NOTE, actor=worker)
            self._at(self._next_office_day(self.last, self.rng.randint(1, 4)))
            do_reply(case, reply=REWORK_REPLY, actor=handler)
            self._in_time(case, Stage.VERIFY)
        do_verify(case, passed=True, note="现场核查，问题已处理。", actor=worker)
        if plan.stop == "resolved":
            return
        if case.needs_revisit:
            self._in_time(case, Stage.REVISIT)
            unhappy = plan.path in ("unsatisfied", "reopen") or self.rng.random() < 0.02
            self._revisit(case, unhappy=unhappy)
            if plan.path == "reopen" and self._in_county(case):
                self._at(self._next_office_day(self.last))
                to_dispatch = self.rng.random() < 0.25
                do_reopen(
                    case,
                    reason="回访不满意，经督查室审核同意重办。",
                    to_dispatch=to_dispatch,
                    actor=self.staff.supervisor,
                )
                if to_dispatch:
                    self._dispatch_to(
                        case, plan, case.lead_unit or self._unit(case.category or plan.category, plan)
                    )
                    self._soon(20, 360)
                    do_accept(case, actor=self.staff.handler(case.lead_unit))  # type: ignore[arg-type]
                lead = case.lead_unit
                assert lead is not None
                self._at(self._next_office_day(self.last, self.rng.randint(2, 4)))
                do_reply(case, reply=REOPEN_REPLY, actor=self.staff.handler(lead))
                self._in_time(case, Stage.VERIFY)
                do_verify(case, passed=True, note="现场核查，问题已处理。", actor=worker)
                self._in_time(case, Stage.REVISIT)
                self._revisit(case, unhappy=False)
        if self.rng.random() < 0.85:
            self._at(self._next_office_day(self.last, self.rng.randint(2, 8)))
            archivist = self.staff.county_dispatcher if self._in_county(case) else self.staff.city_dispatcher
            do_archive(case, actor=archivist)

    def _revisit(self, case: Case, *, unhappy: bool) -> None:
        actor = self._revisitor(case)
        roll = self.rng.random()
        if unhappy:
            do_revisit(
                case,
                channel="phone",
                resolution=self.rng.choice(["unresolved", "partly"]),
                satisfaction="unsatisfied",
                comment=self.rng.choice(UNSATISFIED_COMMENTS),
                actor=actor,
            )
        elif roll < 0.06:
            do_revisit(
                case,
                channel="phone",
                satisfaction="not_rated",
                reached=False,
                comment="多次电话联系未接通。",
                actor=actor,
            )
        else:
            satisfaction = "satisfied" if roll < 0.8 else "basically"
            do_revisit(
                case,
                channel=self.rng.choice(["phone", "phone", "phone", "sms"]),
                resolution="resolved",
                satisfaction=satisfaction,
                actor=actor,
            )


def _point_in(cell: GridCell, rng: random.Random) -> tuple[float, float]:
    """A point strictly inside the cell (so the intake's point → cell lookup finds this very cell)."""
    geom = from_geojson(cell.boundary)
    inner = geom.buffer(-0.0002)
    shape = inner if not inner.is_empty else geom
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    for _ in range(200):
        lon, lat = round(rng.uniform(min_lon, max_lon), 6), round(rng.uniform(min_lat, max_lat), 6)
        if shape.contains(shapely.Point(lon, lat)):
            return lon, lat
    point = geom.representative_point()
    return round(point.x, 6), round(point.y, 6)
