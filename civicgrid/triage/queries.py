"""How the suggestions fared: accepted, overridden, dispatched automatically — per model version.

Only suggestions recorded before the case was registered are judged (a suggestion made afterwards, for a
case already registered, was seen by nobody). A suggestion is *accepted* when the case was registered by a person in the suggested category or one of its
sub-categories (the model suggests a first-level class; the dispatcher picks the precise leaf), *overridden*
when it was registered elsewhere, and *pending* while the case is not registered yet. Cases dispatched
automatically are counted apart: nobody accepted them. Only cases the user may see are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_cases
from civicgrid.triage.models import CaseSuggestion


@dataclass(frozen=True)
class Fared:
    version: int
    suggested: int  # with a category (confident enough)
    none: int  # no suggestion (empty text, not sure …)
    accepted: int
    overridden: int
    auto: int
    pending: int

    @property
    def decided(self) -> int:
        return self.accepted + self.overridden

    @property
    def accept_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


def visible_suggestions(user: User) -> QuerySet[CaseSuggestion]:
    return CaseSuggestion.objects.filter(case__in=visible_cases(user).values("pk"))


def fared(user: User) -> list[Fared]:
    # Only suggestions made before the case was registered can have been accepted or overridden.
    registered = Q(case__registered_at__gte=F("at"), auto_dispatched=False, category__isnull=False)
    inside = Q(case__category__path__startswith=F("category__path"))
    rows = (
        visible_suggestions(user)
        .values("model__version")
        .annotate(
            suggested=Count("pk", filter=Q(category__isnull=False)),
            none=Count("pk", filter=Q(category__isnull=True)),
            accepted=Count("pk", filter=registered & inside),
            overridden=Count("pk", filter=registered & ~inside),
            auto=Count("pk", filter=Q(auto_dispatched=True)),
            pending=Count(
                "pk",
                filter=Q(case__registered_at__isnull=True, category__isnull=False, auto_dispatched=False),
            ),
        )
        .order_by("-model__version")
    )
    return [
        Fared(
            version=r["model__version"],
            suggested=r["suggested"],
            none=r["none"],
            accepted=r["accepted"],
            overridden=r["overridden"],
            auto=r["auto"],
            pending=r["pending"],
        )
        for r in rows
    ]


def recent_overrides(user: User, limit: int = 20) -> QuerySet[CaseSuggestion]:
    """The latest suggestions a person registered differently: what to look at before retraining."""
    return (
        visible_suggestions(user)
        .filter(case__registered_at__gte=F("at"), auto_dispatched=False, category__isnull=False)
        .exclude(case__category__path__startswith=F("category__path"))
        .select_related("case", "case__category", "category", "model")
        .order_by("-at", "-pk")[:limit]
    )
