"""The assessment pages: the schemes a user may see, a scheme's ranking for a period (live from the
statistics, or a published version) with its red and black lists, publishing, and the .xlsx export.

Scope: the leaders' workplace (Workplace.OVERVIEW); a scheme is looked up among ``visible_schemes`` (404
outside); publishing needs the ASSESS capability over the scheme's jurisdiction (403 without).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import Workplace, acting_user, can_assess_path, require_workplace
from civicgrid.lib import clock
from civicgrid.stats.definitions import RATE
from civicgrid.stats.figures import Period, add_months, month_end

from . import actions, export
from .models import AssessmentResult, AssessmentScheme, Standing
from .queries import visible_schemes
from .ranking import Ranking, build_ranking, last_closed_period, parse_period, period_code, published_ranking
from .scoring import Entry


class RankingForm(forms.Form):
    p = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=10)
    v = forms.IntegerField(label=gettext_lazy("Version"), required=False, min_value=1)
    live = forms.BooleanField(label=gettext_lazy("Live figures"), required=False)


class PublishForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=actions.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Say why when you publish a period again."),
    )


def _today() -> date:
    return timezone.localtime(clock.now()).date()


@require_workplace(Workplace.OVERVIEW)
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    schemes = list(
        visible_schemes(user)
        .select_related("jurisdiction")
        .prefetch_related("indicators")
        .order_by("-is_active", "jurisdiction__path", "code")
    )
    latest: dict[int, AssessmentResult] = {}
    for result in AssessmentResult.objects.filter(scheme__in=schemes).order_by("-published_at"):
        latest.setdefault(result.scheme_id, result)
    today = _today()
    rows = [
        {
            "scheme": s,
            "latest": latest.get(s.pk),
            "latest_code": period_code(s.period, Period(latest[s.pk].period_first, latest[s.pk].period_last))
            if s.pk in latest
            else "",
            "default_code": period_code(s.period, last_closed_period(s.period, today)),
        }
        for s in schemes
    ]
    return render(request, "assessment/index.html", {"rows": rows})


@dataclass
class Shown:
    ranking: Ranking
    period: Period
    versions: list[AssessmentResult]


def _scheme(user: User, code: str) -> AssessmentScheme:
    return get_object_or_404(visible_schemes(user).select_related("jurisdiction"), code=code)


def _shown(scheme: AssessmentScheme, form: RankingForm, today: date) -> tuple[Shown, int]:
    """The ranking the page shows, and the status (422 when the period was not understood)."""
    status = 200
    period = last_closed_period(scheme.period, today)
    version, live = None, False
    if form.is_bound and form.is_valid():
        version, live = form.cleaned_data.get("v"), bool(form.cleaned_data.get("live"))
        text = (form.cleaned_data.get("p") or "").strip()
        if text:
            try:
                period = parse_period(scheme.period, text)
            except ValidationError as exc:
                for message in exc.message_dict["p"]:
                    form.add_error("p", message)
                status = 422
    elif form.is_bound:
        status = 422
    versions = list(
        AssessmentResult.objects.filter(scheme=scheme, period_first=period.first)
        .select_related("published_by")
        .order_by("-version")
    )
    chosen = next((r for r in versions if r.version == version), None) if version else None
    if chosen is None and version is not None:
        form.add_error("v", _("There is no published version %(v)s of this period.") % {"v": version})
        status = 422
    if chosen is None and not live and versions and version is None:
        chosen = versions[0]  # the official one: the latest published
    ranking = published_ranking(chosen) if chosen is not None else build_ranking(scheme, period, today)
    return Shown(ranking, period, versions), status


def _context(
    request: HttpRequest, scheme: AssessmentScheme, shown: Shown, form: RankingForm
) -> dict[str, Any]:
    user = acting_user(request)
    today = _today()
    ranking = shown.ranking
    code = period_code(scheme.period, shown.period)
    query = {"p": code}
    if ranking.published is not None:
        query["v"] = str(ranking.published.version)
    else:
        query["live"] = "1"
    return {
        "scheme": scheme,
        "ranking": ranking,
        "period_code": code,
        "period": shown.period,
        "versions": shown.versions,
        "form": form,
        "publish_form": PublishForm(),
        "rows": [_row(ranking, e) for e in ranking.entries],
        "red": [_row(ranking, e) for e in ranking.red],
        "black": [_row(ranking, e) for e in ranking.black],
        "rules": [
            {"rule": r, "label": RATE[r.rate].label, "lower_is_better": r.lower_is_better}
            for r in ranking.rules
        ],
        "may_publish": can_assess_path(user, scheme.jurisdiction.path) and shown.period.last < today,
        "ended": shown.period.last < today,
        "xlsx_query": urlencode(query),
        "previous_code": period_code(scheme.period, shown.period.previous()),
        "next_code": _next_code(scheme, shown.period),
    }


def _next_code(scheme: AssessmentScheme, period: Period) -> str:
    """The period after ``period`` (the "next" link)."""
    months = period.months or 1
    first = add_months(period.first, months)
    return period_code(scheme.period, Period(first, month_end(add_months(first, months - 1))))


def _row(ranking: Ranking, e: Entry) -> dict[str, Any]:
    return {
        "e": e,
        "standing_label": Standing(e.standing).label,
        "due_url": ranking.link(e),
        "marks": [{"m": m, "label": RATE[m.rate].label} for m in e.marks],
    }


@require_workplace(Workplace.OVERVIEW)
@require_safe
def scheme_page(request: HttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(acting_user(request), code)
    form = RankingForm(request.GET or None)
    shown, status = _shown(scheme, form, _today())
    return render(request, "assessment/scheme.html", _context(request, scheme, shown, form), status=status)


@require_workplace(Workplace.OVERVIEW)
@require_POST
def publish(request: HttpRequest, code: str) -> HttpResponse:
    user = acting_user(request)
    scheme = _scheme(user, code)
    if not can_assess_path(user, scheme.jurisdiction.path):
        raise PermissionDenied(_("You may not publish the rankings of this scheme."))
    form = RankingForm({"p": request.POST.get("p", ""), "live": "1"})
    publish_form = PublishForm(request.POST)
    shown, status = _shown(scheme, form, _today())
    if status == 200 and publish_form.is_valid():
        try:
            result = actions.do_publish_assessment(
                scheme, shown.period, note=publish_form.cleaned_data["note"], actor=user
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for message in errors:
                    publish_form.add_error(field if field in publish_form.fields else None, message)
        else:
            messages.success(
                request,
                _("Published version %(v)s of %(period)s.")
                % {"v": result.version, "period": period_code(scheme.period, shown.period)},
            )
            query = urlencode({"p": period_code(scheme.period, shown.period), "v": result.version})
            return HttpResponseRedirect(
                f"{reverse('assessment:scheme', args=[scheme.code])}?{query}", status=303
            )
    context = _context(request, scheme, shown, form)
    context["publish_form"] = publish_form
    return render(request, "assessment/scheme.html", context, status=422)


@require_workplace(Workplace.OVERVIEW)
@require_safe
def ranking_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(acting_user(request), code)
    form = RankingForm(request.GET or None)
    shown, status = _shown(scheme, form, _today())
    if status != 200:
        return render(
            request, "assessment/scheme.html", _context(request, scheme, shown, form), status=status
        )
    body = export.ranking_workbook(shown.ranking)
    version = f"-v{shown.ranking.published.version}" if shown.ranking.published else "-live"
    name = f"assessment-{scheme.code}-{period_code(scheme.period, shown.period)}{version}.xlsx"
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
