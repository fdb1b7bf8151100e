"""The overview's scope and the exact definitions of its figures.

Everything starts from the permission module's querysets: the node comes from ``visible_jurisdictions``
(outside → 404), the cases from ``visible_cases``. A case belongs to a node's area when it happened there
*or* a desk of that area owns it now (``origin_path`` or ``level_path`` under the node's path): the same
rule as the case list's ``jurisdiction`` filter (civicgrid.cases.api.filter_cases), so every figure that
links to the list counts exactly the cases the list then shows.

Definitions (../shared/reference/workflow.md §9), all in Asia/Shanghai days:
- *received today / this month*: ``received_at`` in the day / from the 1st of the month to the end of today,
  whatever happened to the case since (dropped ones included: they were received).
- *closed today / this month*: a done case (group ``done``) whose ``closed_at`` falls in the period (a case
  reopened and closed again counts at its latest closing).
- *open now*: group ``open``. *Overdue now*: open, and its first-ending deadline has passed or a clock has
  fired "overdue" — the case list's ``overdue`` filter (the sweep may not have fired yet).
- *应结案数 (due for closing)*: the cases received this month that were not dropped (void, merged, split,
  withdrawn); *结案数*: those of them that are done now; *按期结案数*: those done with no stage deadline
  missed up to closing (every clock but the revisit's, which runs after closing). An approved extension
  moves the deadline, so a case closed inside it counts as on time.
- *满意率*: this month's revisits whose resident gave an answer (not "not rated"): satisfied + basically
  satisfied over those. Weights per assessment scheme come with the statistics module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_cases, visible_jurisdictions
from civicgrid.cases.models import Case, CaseClock, Stage, Timing
from civicgrid.cases.queries import overdue_q
from civicgrid.cases.workflow import Group, in_group
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.jurisdictions.queries import scope_roots

LATE_TIMINGS = (Timing.OVERDUE, Timing.SERIOUS)


def overview_roots(user: User) -> list[Jurisdiction]:
    """The user's entry points: the highest jurisdictions they may see."""
    return scope_roots(user)


def overview_node(user: User, code: str | None, roots: list[Jurisdiction]) -> Jurisdiction | None:
    """The node the page shows: ``code`` looked up among the visible jurisdictions (404 outside), or the
    first root when no code is given (None when the user sees no jurisdiction at all)."""
    if not code:
        return roots[0] if roots else None
    return get_object_or_404(visible_jurisdictions(user), code=code)


def in_area(node: Jurisdiction) -> Q:
    """Cases that happened in the node's subtree or are owned by a desk in it (the case list's rule)."""
    return Q(origin_path__startswith=node.path) | Q(level_path__startswith=node.path)


def area_cases(user: User, node: Jurisdiction) -> QuerySet[Case]:
    return visible_cases(user).filter(in_area(node))


def is_open() -> Q:
    return Q(status__in=in_group(Group.OPEN))


def is_done() -> Q:
    return Q(status__in=in_group(Group.DONE))


def is_overdue(now: datetime) -> Q:
    """The case list's ``overdue=true``: the one definition, shared with the list and the API."""
    return overdue_q(now)


def missed_a_deadline() -> Exists:
    """Some stage clock up to closing ran late. The revisit clock is left out: it starts at closing, so a
    late revisit says nothing about whether the case was closed on time (``Case.was_overdue`` includes it,
    which is why it is not used here)."""
    return Exists(
        CaseClock.objects.filter(case=OuterRef("pk"), timing__in=LATE_TIMINGS).exclude(stage=Stage.REVISIT)
    )


def midnight(day: date) -> datetime:
    """00:00 of ``day`` in Asia/Shanghai (TIME_ZONE), as the case list counts its date filters."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    """Today and this month (to the end of today) in Asia/Shanghai, as half-open intervals."""

    now: datetime
    today: date
    month_first: date

    @classmethod
    def at(cls, now: datetime) -> Period:
        today = timezone.localtime(now, timezone.get_default_timezone()).date()
        return cls(now=now, today=today, month_first=today.replace(day=1))

    @property
    def day_start(self) -> datetime:
        return midnight(self.today)

    @property
    def day_end(self) -> datetime:
        return midnight(self.today + timedelta(days=1))

    @property
    def month_start(self) -> datetime:
        return midnight(self.month_first)

    def received_today(self) -> Q:
        return Q(received_at__gte=self.day_start, received_at__lt=self.day_end)

    def received_this_month(self) -> Q:
        return Q(received_at__gte=self.month_start, received_at__lt=self.day_end)

    def closed_today(self) -> Q:
        return is_done() & Q(closed_at__gte=self.day_start, closed_at__lt=self.day_end)

    def closed_this_month(self) -> Q:
        return is_done() & Q(closed_at__gte=self.month_start, closed_at__lt=self.day_end)

    def due_for_closing(self) -> Q:
        """应结案数: received this month and not dropped."""
        return self.received_this_month() & Q(status__in=in_group(Group.OPEN, Group.DONE))


@dataclass(frozen=True)
class Ratio:
    """A rate shown with its numerator and denominator; no rate when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @property
    def percent(self) -> str | None:
        """One decimal, e.g. "66.7" (the template adds the % sign)."""
        value = self.value
        return None if value is None else f"{float(value * 100):.1f}"
