"""The smart-routing page (the model in use and how its suggestions fared) and the intake suggestion
fragment (the hotline desk and the case page ask it as the text is typed)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from civicgrid.accounts.permissions import Workplace, acting_user, require_any_workplace, require_workplace
from civicgrid.triage import queries, serving
from civicgrid.triage.models import ClassifierModel, TrainingRun
from civicgrid.triage.policy import policy

# Enough for a title and the start of a description; the model reads no further anyway.
MAX_INPUT = 4000


@require_workplace(Workplace.OVERVIEW)
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    active = ClassifierModel.objects.filter(is_active=True).defer("weights").first()
    context = {
        "active": active,
        "models": ClassifierModel.objects.defer("weights").order_by("-version")[:10],
        "runs": TrainingRun.objects.select_related("model").order_by("-pk")[:5],
        "fared": queries.fared(user),
        "overrides": queries.recent_overrides(user),
        "policy": policy(),
    }
    return render(request, "triage/home.html", context)


@require_any_workplace(Workplace.HOTLINE, Workplace.CASES)
@require_POST
def suggest(request: HttpRequest) -> HttpResponse:
    """The top 3 categories for the text typed so far, with the buttons that choose one."""
    title = request.POST.get("title", "")[:MAX_INPUT]
    description = request.POST.get("description", "")[:MAX_INPUT]
    suggestion = serving.suggest(title, description)
    return render(
        request,
        "triage/_suggestion.html",
        {"suggestion": suggestion, "target": request.POST.get("target", "id_category")[:40]},
    )
