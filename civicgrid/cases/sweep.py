"""The worker job that fires due clock thresholds (warning, overdue, seriously overdue) and applies the
escalation rules (urge, supervise, escalate).

Safe with several workers at once and safe to run twice:
- clocks are picked by the partial index on ``next_fire_at``; each is handled in its own transaction that
  first locks the case row with ``SKIP LOCKED`` (PostgreSQL), so a case being changed by a person or by
  another worker is simply left for the next round;
- the threshold already fired is recorded on the clock (``timing``) and the update is conditional on the
  value read, so a threshold fires once;
- a clock whose handling raises is pushed an hour ahead (``next_fire_at``), so one bad row cannot make the
  worker crash-loop, and the traceback is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from civicgrid.cases import changes, clocks
from civicgrid.cases.actions.dispatching import do_escalate
from civicgrid.cases.actions.handling import do_supervise, do_urge
from civicgrid.cases.models import (
    TIMING_RANK,
    Case,
    CaseClock,
    CaseEvent,
    ClockState,
    EscalationRule,
    RuleAction,
    Timing,
    Trigger,
)
from civicgrid.cases.workflow import TransitionNotAllowed
from civicgrid.core.worker import WorkerContext
from civicgrid.lib import clock as wallclock

logger = logging.getLogger("civicgrid.cases.sweep")

FAILURE_RETRY = timedelta(hours=1)
_ORDER = (Timing.WARNING, Timing.OVERDUE, Timing.SERIOUS)
# Urge before supervising before escalating, so the record reads in the order a person would act.
_ACTION_ORDER = (RuleAction.URGE, RuleAction.SUPERVISE, RuleAction.ESCALATE)


@dataclass(frozen=True)
class Rule:
    stage: str
    threshold: str
    action: str
    category_code: str | None
    level: str


def load_rules() -> list[Rule]:
    return [
        Rule(r.stage, r.threshold, r.action, r.category.code if r.category else None, r.level)
        for r in EscalationRule.objects.filter(is_active=True).select_related("category")
    ]


def sweep_due_clocks(context: WorkerContext) -> int:
    """Handle up to ``context.batch`` due clocks; returns how many were handled."""
    rules = load_rules()
    due = list(
        CaseClock.objects.filter(state=ClockState.RUNNING, next_fire_at__lte=context.now)
        .order_by("next_fire_at")
        .values_list("pk", flat=True)[: context.batch]
    )
    handled = 0
    for clock_id in due:
        try:
            handled += fire_clock(clock_id, now=context.now, rules=rules)
        except Exception:
            logger.exception("clock %s failed; retrying in an hour", clock_id)
            CaseClock.objects.filter(pk=clock_id, state=ClockState.RUNNING).update(
                next_fire_at=context.now + FAILURE_RETRY
            )
    return handled


def fire_clock(clock_id: int, *, now: datetime, rules: list[Rule]) -> int:
    """Fire every threshold the clock has crossed since it was last looked at. 1 if handled, else 0."""
    with transaction.atomic():
        # The clock's case, locked, in one statement (the clock's own row is read after the lock).
        cases = Case.objects.filter(pk__in=CaseClock.objects.filter(pk=clock_id).values("case_id"))
        if connection.features.has_select_for_update_skip_locked:
            cases = cases.select_for_update(skip_locked=True, no_key=True, of=("self",))
        case = cases.select_related("category", "jurisdiction").first()
        if case is None:
            return 0  # someone holds the case: next round
        running = clocks.running(case)  # all of them: _record refreshes the due columns from these
        k = next((c for c in running if c.pk == clock_id), None)
        if k is None or k.state != ClockState.RUNNING or k.next_fire_at is None or k.next_fire_at > now:
            return 0  # already handled, paused or moved
        reached = clocks.timing_at(k, now)
        fired = [t for t in _ORDER if TIMING_RANK[Timing(k.timing)] < TIMING_RANK[t] <= TIMING_RANK[reached]]
        old = k.timing
        k.timing = reached
        k.next_fire_at = clocks.next_fire(k)
        updated = CaseClock.objects.filter(pk=k.pk, timing=old, state=ClockState.RUNNING).update(
            timing=reached, next_fire_at=k.next_fire_at
        )
        if not updated or not fired:
            return 0
        with wallclock.frozen(now):
            # Every crossed threshold is on record; each kind of rule action runs once, for the highest
            # threshold that asks for it (a worker that was down does not urge three times in a row).
            actions: dict[str, tuple[Rule, Timing]] = {}
            for threshold in fired:
                _record(case, k, threshold, now, running)
                for rule in _matching(rules, case, k.stage, threshold):
                    actions[rule.action] = (rule, threshold)
            for rule, threshold in sorted(actions.values(), key=lambda rt: _ACTION_ORDER.index(rt[0].action)):
                _apply(case, rule, k, threshold)
        return 1


def _record(case: Case, k: CaseClock, threshold: Timing, now: datetime, running: list[CaseClock]) -> None:
    # ``case`` is the row locked by fire_clock, kept current in memory; every threshold is
    # recorded before any rule action runs, so ``running`` (with ``k`` updated) is still the case's clocks.
    case.version += 1
    clocks.refresh_due(case, at=now, running_clocks=running)
    case.save(update_fields=["version", "timing", "was_overdue", "due_at", "due_stage"])
    changes.mark_changed(case)
    CaseEvent.objects.create(
        case=case,
        seq=case.version,
        code=f"clock.{threshold}",
        actor=None,
        at=now,
        from_status=case.status,
        to_status=case.status,
        data={"stage": k.stage, "seq": k.seq, "deadline": k.deadline_at.isoformat()},
    )


def _matching(rules: list[Rule], case: Case, stage: str, threshold: str) -> list[Rule]:
    codes = set(case.category.ancestor_codes) if case.category else set()
    return [
        r
        for r in rules
        if r.stage == stage
        and r.threshold == threshold
        and (r.category_code is None or r.category_code in codes)
        and (not r.level or r.level == case.level)
    ]


def _apply(case: Case, rule: Rule, k: CaseClock, threshold: str) -> None:
    note = _("%(stage)s: %(threshold)s (deadline %(deadline)s)") % {
        "stage": k.get_stage_display(),
        "threshold": Timing(threshold).label,
        "deadline": f"{k.deadline_at:%Y-%m-%d %H:%M}",
    }
    # No savepoint of our own: each action runs in case_step's atomic block, a savepoint inside
    # fire_clock's transaction, so a refused action rolls back alone and the threshold event stays.
    try:
        if rule.action == RuleAction.URGE:
            do_urge(case, note=note, trigger=Trigger.TIMEOUT, actor=None)
        elif rule.action == RuleAction.SUPERVISE:
            do_supervise(case, opinion=note, trigger=Trigger.TIMEOUT, actor=None)
        elif rule.action == RuleAction.ESCALATE:
            do_escalate(case, reason=note, trigger=Trigger.TIMEOUT, actor=None)
    except (TransitionNotAllowed, ValidationError) as exc:
        # E.g. the case is already at the top level: the threshold event stays on record, the rule is moot.
        logger.info("rule %s on case %s not applied: %s", rule.action, case.pk, exc)
