"""The case page's 分类建议 panel: what the model suggested for the case (recorded by the worker), how it
fared, and — while the case waits to be registered and nothing is recorded yet — a live suggestion."""

from __future__ import annotations

from typing import Any

from django import template

from civicgrid.cases.models import Case, Category
from civicgrid.cases.workflow import Status
from civicgrid.triage import serving
from civicgrid.triage.models import CaseSuggestion

register = template.Library()

BEFORE_REGISTRATION = frozenset({Status.RECEIVED, Status.CONFIRMING})


@register.inclusion_tag("triage/_case_suggestion.html")
def case_suggestion(case: Case) -> dict[str, Any]:
    recorded = (
        CaseSuggestion.objects.filter(case=case).select_related("model", "category", "lead_unit").first()
    )
    waiting = case.status in BEFORE_REGISTRATION
    context: dict[str, Any] = {"case": case, "recorded": recorded, "waiting": waiting, "live": None}
    if recorded is not None:
        codes = [code for code, _p in recorded.top]
        names = dict(Category.objects.filter(code__in=codes).values_list("code", "name"))
        context["top"] = [(code, names.get(code, code), round(p * 100)) for code, p in recorded.top]
        if recorded.no_suggestion:
            best = round(recorded.top[0][1] * 100) if recorded.top else None
            context["reason"] = serving.reason_text(recorded.no_suggestion, best)
        if recorded.category is not None and case.registered_at is not None and not recorded.auto_dispatched:
            chosen = case.category
            context["outcome"] = (
                "accepted"
                if chosen is not None and chosen.path.startswith(recorded.category.path)
                else "overridden"
            )
    elif waiting:
        context["live"] = serving.suggest(case.title, case.description)
    return context
