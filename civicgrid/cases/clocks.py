"""Stage clocks: started, paused, extended and stopped by the case actions, fired by the worker.

Every function here runs inside the calling action's transaction, on a case row the action has locked. The
deadline arithmetic is civicgrid.lib.workcalendar's (Chinese working days, 调休, office hours). After any
change ``refresh_due`` copies the running clock that ends first onto the case (``due_at``, ``due_stage``,
``timing``), so lists can filter and sort on indexed columns.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from civicgrid.cases.limits import LimitRow, limits_for
from civicgrid.cases.models import TIMING_RANK, Case, CaseClock, ClockState, HandleStart, Stage, Timing
from civicgrid.lib.workcalendar import WorkCalendar
from civicgrid.workcalendar.calendar import current_calendar


def _touch(case: Case) -> None:
    """Mark the case's due columns stale, so the action's ``finish`` recomputes them (and only then)."""
    case._clocks_changed = True  # type: ignore[attr-defined]


def clocks_changed(case: Case) -> bool:
    return bool(getattr(case, "_clocks_changed", False))


def case_limits(case: Case, stage: Stage) -> list[LimitRow]:
    codes = case.category.ancestor_codes if case.category else []
    return limits_for(
        stage,
        category_codes=codes,
        nature=case.nature,
        handling_class=case.handling_class,
        urgency=case.urgency,
    )


def planned_deadline(
    stage: Stage,
    *,
    category_codes: list[str],
    nature: str,
    handling_class: str,
    urgency: str,
    at: datetime,
    cal: WorkCalendar | None = None,
) -> datetime | None:
    """The last deadline ``plan_clocks`` would give the stage's clock(s) started at ``at`` (None: untimed),
    without building clocks or a case — for lists that show an expected date for many cases at once."""
    rows = limits_for(
        stage, category_codes=category_codes, nature=nature, handling_class=handling_class, urgency=urgency
    )
    if not rows:
        return None
    cal = cal or current_calendar()
    return max(cal.add(at, float(row.value), row.unit) for row in rows)


def handle_starts_at_dispatch(case: Case) -> bool:
    rows = case_limits(case, Stage.HANDLE)
    return bool(rows) and rows[0].handle_starts == HandleStart.DISPATCH


def _thresholds(cal: WorkCalendar, start: datetime, row_value: Decimal, clock: CaseClock) -> None:
    value = float(row_value)
    clock.deadline_at = cal.add(start, value, clock.unit)
    clock.warn_at = cal.add(start, value * float(clock.warn_fraction), clock.unit)
    clock.serious_at = cal.add(start, value * float(clock.serious_factor), clock.unit)


def timing_at(clock: CaseClock, at: datetime) -> Timing:
    if at >= clock.serious_at:
        return Timing.SERIOUS
    if at >= clock.deadline_at:
        return Timing.OVERDUE
    if at >= clock.warn_at:
        return Timing.WARNING
    return Timing.ON_TIME


def next_fire(clock: CaseClock) -> datetime | None:
    """The next threshold the worker has not fired yet (by the clock's recorded timing)."""
    rank = TIMING_RANK[Timing(clock.timing)]
    for threshold, at in ((1, clock.warn_at), (2, clock.deadline_at), (3, clock.serious_at)):
        if rank < threshold:
            return at
    return None


def start_clocks(case: Case, stage: Stage, *, at: datetime) -> list[CaseClock]:
    """Start the stage's clock(s) from the limits that apply to the case now (none: the stage is untimed)."""
    return save_planned(case, plan_clocks(case, stage, at=at))


def save_planned(case: Case, planned: list[CaseClock]) -> list[CaseClock]:
    """Write the clocks plan_clocks worked out (the case may have been saved since)."""
    if not planned:
        return []
    return CaseClock.objects.bulk_create(prepare_planned(case, planned))


def prepare_planned(case: Case, planned: list[CaseClock]) -> list[CaseClock]:
    """The planned clocks made ready for the caller to write them (with the case's other rows)."""
    for clock in planned:
        clock.case = case
    if planned:
        _touch(case)
    return planned


def plan_clocks(case: Case, stage: Stage, *, at: datetime) -> list[CaseClock]:
    """The stage's clock(s), not yet saved: their deadlines from the limits that apply to the case now."""
    rows = case_limits(case, stage)
    if not rows:
        return []
    cal = current_calendar()
    clocks: list[CaseClock] = []
    # Staged limits (停工 → 处罚 → 拆除) all start together and run to cumulative deadlines.
    for row in rows:
        clock = CaseClock(
            case=case,
            stage=stage,
            seq=row.seq,
            label=row.label,
            unit=row.unit,
            limit_value=row.value,
            warn_fraction=row.warn_fraction,
            serious_factor=row.serious_factor,
            started_at=at,
        )
        _thresholds(cal, at, row.value, clock)
        clock.next_fire_at = next_fire(clock)
        clocks.append(clock)
    return clocks


def running(case: Case, *stages: Stage) -> list[CaseClock]:
    qs = CaseClock.objects.filter(case=case, state__in=[ClockState.RUNNING, ClockState.PAUSED])
    if stages:
        qs = qs.filter(stage__in=[str(s) for s in stages])
    return list(qs)


def stop_clocks(case: Case, *stages: Stage, at: datetime, seq: int | None = None) -> list[CaseClock]:
    """Stop the running or paused clocks of the stages (all stages when none are given)."""
    stopped = []
    for clock in running(case, *stages):
        if seq is not None and clock.seq != seq:
            continue
        if clock.state == ClockState.PAUSED:
            _unpause(clock, at)
        clock.state = ClockState.STOPPED
        clock.stopped_at = at
        clock.timing = max(Timing(clock.timing), timing_at(clock, at), key=TIMING_RANK.__getitem__)
        clock.next_fire_at = None
        if clock.is_late:
            case.was_overdue = True
        clock.save(
            update_fields=[
                "state",
                "stopped_at",
                "timing",
                "next_fire_at",
                "deadline_at",
                "warn_at",
                "serious_at",
                "paused_at",
                "paused_amount",
            ]
        )
        stopped.append(clock)
    if stopped:
        _touch(case)
    return stopped


def _unpause(clock: CaseClock, at: datetime) -> None:
    """Move the thresholds by the paused time, measured in the clock's unit."""
    assert clock.paused_at is not None
    cal = current_calendar()
    amount = cal.elapsed(clock.paused_at, at, clock.unit)
    clock.deadline_at = cal.add(clock.deadline_at, amount, clock.unit)
    clock.warn_at = cal.add(clock.warn_at, amount, clock.unit)
    clock.serious_at = cal.add(clock.serious_at, amount, clock.unit)
    clock.paused_amount += amount
    clock.paused_at = None
    clock.state = ClockState.RUNNING


def pause_clocks(case: Case, *, at: datetime) -> list[CaseClock]:
    paused = []
    for clock in running(case):
        if clock.state != ClockState.RUNNING:
            continue
        clock.state = ClockState.PAUSED
        clock.paused_at = at
        clock.next_fire_at = None
        clock.save(update_fields=["state", "paused_at", "next_fire_at"])
        paused.append(clock)
    if paused:
        _touch(case)
    return paused


def resume_clocks(case: Case, *, at: datetime) -> list[CaseClock]:
    resumed = []
    for clock in running(case):
        if clock.state != ClockState.PAUSED:
            continue
        _unpause(clock, at)
        clock.next_fire_at = next_fire(clock)
        clock.save(
            update_fields=[
                "state",
                "paused_at",
                "paused_amount",
                "deadline_at",
                "warn_at",
                "serious_at",
                "next_fire_at",
            ]
        )
        resumed.append(clock)
    if resumed:
        _touch(case)
    return resumed


def extend_clocks(case: Case, stage: Stage, amount: Decimal, unit: str) -> list[CaseClock]:
    """An approved extension moves the stage's open deadlines (all milestones) by ``amount`` of ``unit``."""
    cal = current_calendar()
    changed = []
    for clock in running(case, stage):
        clock.deadline_at = cal.add(clock.deadline_at, float(amount), unit)
        clock.serious_at = cal.add(clock.serious_at, float(amount), unit)
        clock.warn_at = cal.add(clock.warn_at, float(amount), unit)
        clock.extended_amount += amount
        # A clock that already fired "overdue" is back on time once the new deadline is ahead.
        clock.timing = Timing.ON_TIME
        if clock.state == ClockState.RUNNING:
            clock.next_fire_at = next_fire(clock)
        clock.save(
            update_fields=[
                "deadline_at",
                "serious_at",
                "warn_at",
                "extended_amount",
                "timing",
                "next_fire_at",
            ]
        )
        changed.append(clock)
    if changed:
        _touch(case)
    return changed


def refresh_due(case: Case, *, at: datetime, running_clocks: list[CaseClock] | None = None) -> None:
    """Copy the first-ending running clock onto the case's indexed columns (the caller saves the case).
    ``running_clocks``: all the case's running clocks when the caller knows them (saves a query)."""
    case._clocks_changed = False  # type: ignore[attr-defined]
    found = running(case) if running_clocks is None else running_clocks
    clocks = [c for c in found if c.state == ClockState.RUNNING]
    if not clocks:
        case.due_at = None
        case.due_stage = ""
        case.timing = Timing.ON_TIME
        return
    first = min(clocks, key=lambda c: c.deadline_at)
    case.due_at = first.deadline_at
    case.due_stage = first.stage
    worst = max(
        (max(Timing(c.timing), timing_at(c, at), key=TIMING_RANK.__getitem__) for c in clocks),
        key=TIMING_RANK.__getitem__,
    )
    case.timing = worst
    if TIMING_RANK[worst] >= TIMING_RANK[Timing.OVERDUE]:
        case.was_overdue = True


def remaining(clock: CaseClock, at: datetime) -> float:
    """The limit left, in the clock's unit (negative once overdue)."""
    cal = current_calendar()
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        at = clock.paused_at
    if at <= clock.deadline_at:
        return cal.elapsed(at, clock.deadline_at, clock.unit)
    return -cal.elapsed(clock.deadline_at, at, clock.unit)
