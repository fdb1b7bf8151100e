"""The service window's pages: the desk (find an item, tick materials, register), visits, and the printed
一次性告知书 and 受理回执. Views parse, authorize (the WINDOW screen, then the scoped querysets of
civicgrid.services.queries) and call the actions; an object outside the user's scope is a 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import Workplace, acting_user, require_workplace
from civicgrid.core import crypto
from civicgrid.lib import clock
from civicgrid.services import actions
from civicgrid.services.forms import ItemSearchForm, StepForm, VisitForm, VisitSearchForm
from civicgrid.services.models import (
    OPEN_STATUSES,
    Outcome,
    ServiceItem,
    VisitAction,
    WindowVisit,
)
from civicgrid.services.queries import service_centers_for, visible_visits

RECENT = 8
DUE_SOON_DAYS = 2


def _errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    """An action's ValidationError, put back on the form's fields (unknown keys: at the top)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _see_other(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url, status=303)


# --- The desk -----------------------------------------------------------------------------------------------


def _matching_items(q: str) -> QuerySet[ServiceItem]:
    items = ServiceItem.objects.filter(is_active=True).select_related("unit_type")
    if q:
        items = items.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(description__icontains=q))
    return items.order_by("order", "code")


@require_http_methods(["GET", "POST"])
@require_workplace(Workplace.WINDOW)
def desk(request: HttpRequest) -> HttpResponse:
    """Find an item, then register a visit for it (plain POST; the search also filters in place by htmx)."""
    user = acting_user(request)
    search = ItemSearchForm(request.GET or None)
    q = search.cleaned_data["q"].strip() if search.is_valid() else ""
    items = _matching_items(q)
    code = (request.POST.get("item") if request.method == "POST" else request.GET.get("item")) or ""
    item: ServiceItem | None = None
    if code:
        item = get_object_or_404(
            ServiceItem.objects.filter(is_active=True)
            .select_related("unit_type")
            .prefetch_related("materials"),
            code=code,
        )
    elif request.method == "POST":
        raise Http404
    if request.htmx and request.method == "GET":  # type: ignore[attr-defined]
        # The search filters the list in place; the chosen item (if any) stays chosen.
        return render(request, "services/_items.html", {"items": items, "q": q, "item": item})
    centers = list(service_centers_for(user))
    form: VisitForm | None = None
    status = 200
    if item is not None:
        if request.method == "POST":
            form = VisitForm(request.POST, item=item, centers=centers)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    visit = actions.do_register_visit(
                        item=item,
                        service_center=data["service_center"],
                        applicant_name=data["applicant_name"],
                        applicant_phone=data["applicant_phone"],
                        id_number=data["id_number"],
                        received=[m.pk for m in data["materials"]],
                        outcome=data["outcome"],
                        refusal_reason=data["refusal_reason"],
                        note=data["note"],
                        actor=user,
                    )
                except ValidationError as exc:
                    _errors_to_form(form, exc)
                else:
                    messages.success(
                        request,
                        _("Visit %(number)s registered: %(outcome)s.")
                        % {"number": visit.number, "outcome": visit.get_outcome_display()},
                    )
                    return _see_other(reverse("services:visit", args=[visit.number]))
            status = 422
        else:
            form = VisitForm(item=item, centers=centers)
    context = {
        "search": search,
        "q": q,
        "items": items,
        "item": item,
        "form": form,
        "centers": centers,
        **_desk_lists(user, centers),
    }
    return render(request, "services/desk.html", context, status=status)


def _desk_lists(user: User, centers: list[Any]) -> dict[str, Any]:
    visits = visible_visits(user).select_related("item", "service_center")
    if centers:
        visits = visits.filter(service_center__in=[c.pk for c in centers])
    soon = clock.now() + timedelta(days=DUE_SOON_DAYS)
    return {
        "recent": list(visits.order_by("-registered_at")[:RECENT]),
        "due_soon": list(
            visits.filter(status__in=OPEN_STATUSES, promised_due_at__lte=soon).order_by("promised_due_at")[
                :RECENT
            ]
        ),
        "now": clock.now(),
    }


# --- Visits ---------------------------------------------------------------------------------------------------


def _visit(user: User, number: str) -> WindowVisit:
    return get_object_or_404(
        visible_visits(user).select_related(
            "item",
            "item__unit_type",
            "service_center",
            "service_center__service_profile",
            "service_center__jurisdiction",
            "responsible_unit",
            "registered_by",
        ),
        number=number,
    )


@require_GET
@require_workplace(Workplace.WINDOW)
def visit_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = VisitSearchForm(request.GET or None)
    visits = visible_visits(user).select_related("item", "service_center")
    if form.is_valid():
        if q := form.cleaned_data["q"].strip():
            visits = visits.filter(
                Q(number__istartswith=q)
                | Q(applicant_name=q)
                | Q(applicant_phone_digest=crypto.digest(q))
                | Q(id_number_digest=crypto.digest(q.upper()))
            )
        if status := form.cleaned_data["status"]:
            visits = visits.filter(status=status)
    page = Paginator(visits.order_by("-registered_at"), 30).get_page(request.GET.get("page"))
    query = urlencode({k: v for k in ("q", "status") if (v := request.GET.get(k, ""))})
    return render(
        request, "services/visit_list.html", {"form": form, "page": page, "query": query, "now": clock.now()}
    )


def _visit_page(
    request: HttpRequest, visit: WindowVisit, *, bound: dict[str, StepForm] | None = None, status: int = 200
) -> HttpResponse:
    bound = bound or {}
    allowed = actions.allowed_actions(visit)
    forms_by_action = {a.value: bound.get(a.value) or StepForm(prefix=a.value) for a in allowed}
    # A step refused because the visit moved on has no form left to show its message at: say it on top.
    refused = [e for a, f in bound.items() if VisitAction(a) not in allowed for e in f.non_field_errors()]
    context = {
        "refused": refused,
        "visit": visit,
        "events": visit.events.select_related("actor").order_by("seq"),
        "step_forms": [(VisitAction(a), f) for a, f in forms_by_action.items()],
        "now": clock.now(),
    }
    return render(request, "services/visit.html", context, status=status)


@require_GET
@require_workplace(Workplace.WINDOW)
def visit_page(request: HttpRequest, number: str) -> HttpResponse:
    return _visit_page(request, _visit(acting_user(request), number))


STEPS: dict[VisitAction, Callable[..., WindowVisit]] = {
    VisitAction.START: actions.do_start_visit,
    VisitAction.COMPLETE: actions.do_complete_visit,
    VisitAction.COLLECT: actions.do_mark_collected,
}
DONE_MESSAGES = {
    VisitAction.START: gettext_lazy("Handling of %(number)s started."),
    VisitAction.COMPLETE: gettext_lazy("%(number)s is done: the resident can collect the result."),
    VisitAction.COLLECT: gettext_lazy("%(number)s was collected."),
}


def _step(request: HttpRequest, number: str, action: VisitAction) -> HttpResponse:
    user = acting_user(request)
    visit = _visit(user, number)
    form = StepForm(request.POST, prefix=action.value)
    if form.is_valid():
        try:
            STEPS[action](visit, note=form.cleaned_data["note"], actor=user)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, str(DONE_MESSAGES[action]) % {"number": visit.number})
            return _see_other(reverse("services:visit", args=[visit.number]))
    # Refused (e.g. someone else completed it meanwhile): the fresh visit, with the message at the form.
    return _visit_page(request, _visit(user, number), bound={action.value: form}, status=422)


@require_POST
@require_workplace(Workplace.WINDOW)
def start(request: HttpRequest, number: str) -> HttpResponse:
    return _step(request, number, VisitAction.START)


@require_POST
@require_workplace(Workplace.WINDOW)
def complete(request: HttpRequest, number: str) -> HttpResponse:
    return _step(request, number, VisitAction.COMPLETE)


@require_POST
@require_workplace(Workplace.WINDOW)
def collect(request: HttpRequest, number: str) -> HttpResponse:
    return _step(request, number, VisitAction.COLLECT)


# --- Printed documents --------------------------------------------------------------------------------------


@require_GET
@require_workplace(Workplace.WINDOW)
def notice(request: HttpRequest, number: str) -> HttpResponse:
    """一次性告知书: every material of the item, the missing ones marked, printed once."""
    visit = _visit(acting_user(request), number)
    if visit.outcome != Outcome.NOTICE:
        raise Http404
    return render(request, "services/notice.html", {"visit": visit, "center": _center(visit)})


@require_GET
@require_workplace(Workplace.WINDOW)
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    """受理回执: what was received, the promised completion date and where to collect."""
    visit = _visit(acting_user(request), number)
    if visit.outcome not in (Outcome.ACCEPTED, Outcome.INSTANT):
        raise Http404
    return render(request, "services/receipt.html", {"visit": visit, "center": _center(visit)})


def _center(visit: WindowVisit) -> dict[str, str]:
    """The centre's printed details: its profile, else what the unit itself knows."""
    unit = visit.service_center
    profile = getattr(unit, "service_profile", None)
    return {
        "name": unit.name,
        "address": profile.address if profile else "",
        "phone": (profile.phone if profile else "") or unit.office_phone,
        "hours": profile.opening_hours if profile else "",
        "collect": (profile.collection_point if profile else "") or unit.name,
    }
