"""The case workbench: queues with counts, filters (the API's CaseFilters), saved filters and bulk dispatch.

A queue is a view of the workflow's statuses over the cases the user may see (``visible_cases``); the
same case can sit in "handling" and "overdue". Filters are parsed into the API's CaseFilters and applied by
the API's own ``filter_cases``, so the list and GET /api/v1/cases agree on every parameter. ``listing`` builds
what a request asks for; the page and the export (civicgrid.cases.views.export) both read it, so a file holds
exactly the cases the page lists.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import (
    Workplace,
    acting_user,
    require_workplace,
    scope_of,
    visible_cases,
    visible_jurisdictions,
    visible_units,
)
from civicgrid.cases.actions import CaseConflict
from civicgrid.cases.actions.saved_filters import clean_query, do_delete_filter, do_save_filter
from civicgrid.cases.api import filter_cases
from civicgrid.cases.api_schemas import CaseFilters, DispatchIn
from civicgrid.cases.models import Case, Category, Channel, Nature, SavedFilter, Timing
from civicgrid.cases.performing import perform
from civicgrid.cases.queries import overdue_q
from civicgrid.cases.views.display import deadline_of
from civicgrid.cases.workflow import Action, Cap, Group, Status, TransitionNotAllowed, in_group
from civicgrid.core.widgets import QuickSelect
from civicgrid.lib import clock
from civicgrid.stats.definitions import COUNTERS, Axis

PAGE = 50


@dataclass(frozen=True)
class Queue:
    code: str
    label: Any
    where: Callable[[datetime], Q]


def _late(now: datetime) -> Q:
    return overdue_q(now)


QUEUES: list[Queue] = [
    Queue(
        "register",
        gettext_lazy("To register"),
        lambda now: Q(status__in=[Status.RECEIVED, Status.CONFIRMING]),
    ),
    Queue("dispatch", gettext_lazy("To dispatch"), lambda now: Q(status=Status.REGISTERED)),
    Queue("accept", gettext_lazy("To accept"), lambda now: Q(status=Status.DISPATCHED)),
    Queue(
        "handling",
        gettext_lazy("Handling"),
        lambda now: Q(status__in=[Status.HANDLING, Status.WAITING, Status.SUSPENDED]),
    ),
    Queue(
        "due_soon",
        gettext_lazy("Due soon"),
        lambda now: Q(status__in=in_group(Group.OPEN), timing=Timing.WARNING) & ~_late(now),
    ),
    Queue("overdue", gettext_lazy("Overdue"), _late),
    Queue("verify", gettext_lazy("To verify"), lambda now: Q(status=Status.REPLIED)),
    Queue("revisit", gettext_lazy("To revisit"), lambda now: Q(status=Status.RESOLVED, needs_revisit=True)),
    Queue("returned", gettext_lazy("Returned"), lambda now: Q(status=Status.RETURN_REQUESTED)),
    Queue("all", gettext_lazy("All"), lambda now: Q()),
]
QUEUE_BY_CODE = {q.code: q for q in QUEUES}


class FilterForm(forms.Form):
    """The list's filters; the names are those of the API's CaseFilters."""

    q = forms.CharField(label=gettext_lazy("Number or title"), required=False, max_length=100)
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False, widget=QuickSelect)
    unit = forms.ChoiceField(label=gettext_lazy("Lead unit"), required=False, widget=QuickSelect)
    jurisdiction = forms.ChoiceField(label=gettext_lazy("Area"), required=False, widget=QuickSelect)
    grid = forms.CharField(label=gettext_lazy("Grid cell code"), required=False, max_length=32)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), required=False, choices=[("", "—"), *Channel.choices]
    )
    received_from = forms.DateField(
        label=gettext_lazy("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        label=gettext_lazy("Received to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # The filters the overview's and the statistics' figures link with (a figure opens its cases).
    group = forms.ChoiceField(
        label=gettext_lazy("State group"),
        required=False,
        choices=[
            ("", "—"),
            (Group.OPEN.value, gettext_lazy("open")),
            (Group.DONE.value, gettext_lazy("done")),
            (Group.DROPPED.value, gettext_lazy("dropped")),
        ],
    )
    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"), required=False, choices=Status.choices, widget=forms.SelectMultiple
    )
    nature = forms.ChoiceField(
        label=gettext_lazy("Nature"), required=False, choices=[("", "—"), *Nature.choices]
    )
    closed_from = forms.DateField(
        label=gettext_lazy("Closed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closed_to = forms.DateField(
        label=gettext_lazy("Closed to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    counted = forms.ChoiceField(label=gettext_lazy("Counted in the statistics as"), required=False)

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cats = Category.objects.filter(is_active=True, depth__lte=2).order_by("path")
        typing.cast(forms.ChoiceField, self.fields["category"]).choices = [("", "—")] + [
            (c.code, "\u3000" * (c.depth - 1) + c.name) for c in cats
        ]
        units = visible_units(user).filter(is_active=True).order_by("jurisdiction__path", "name")
        typing.cast(forms.ChoiceField, self.fields["unit"]).choices = [("", "—")] + [
            (u.code, u.name) for u in units[:500]
        ]
        # Areas down to the streets: communities are many, and the grid cell filter is finer still.
        areas = visible_jurisdictions(user).filter(is_active=True, level__in=["city", "county", "street"])
        area_choices = [(j.code, j.name) for j in areas.order_by("path")[:500]]
        # A link may ask for a community or a third-level category (a figure's drill-down): offered too.
        asked = self.data.get("jurisdiction") if self.is_bound else None
        if asked and asked not in dict(area_choices):
            extra = visible_jurisdictions(user).filter(code=asked).first()
            area_choices += [(extra.code, extra.name)] if extra else []
        typing.cast(forms.ChoiceField, self.fields["jurisdiction"]).choices = [("", "—"), *area_choices]
        field = typing.cast(forms.ChoiceField, self.fields["category"])
        asked = self.data.get("category") if self.is_bound else None
        if asked and asked not in dict(field.choices):  # type: ignore[arg-type]
            extra_cat = Category.objects.filter(code=asked).first()
            field.choices = [*field.choices, *([(extra_cat.code, extra_cat.name)] if extra_cat else [])]  # type: ignore[misc]
        typing.cast(forms.ChoiceField, self.fields["counted"]).choices = [("", "—")] + [
            (c.code, c.label) for c in COUNTERS if c.axis is Axis.RECEIVED
        ]


def _filters(form: FilterForm) -> CaseFilters:
    data = {k: v for k, v in form.cleaned_data.items() if v not in ("", None, [])}
    return CaseFilters(**data, limit=PAGE)


@dataclass(frozen=True)
class Listing:
    """What a request to the list asks for: the queue, the filter form (bound when there is a query, with
    its errors), and the user's visible cases narrowed by the filters — every queue of them, which the tabs
    count. ``valid`` is false when a filter could not be read: the list then shows nothing."""

    queue: Queue
    form: FilterForm
    filtered: QuerySet[Case]
    now: datetime
    valid: bool

    @property
    def cases(self) -> QuerySet[Case]:
        """The cases of the current queue under the filters: the rows of the list (and of an export)."""
        return self.filtered.filter(self.queue.where(self.now))


def listing(user: User, query: QueryDict, now: datetime) -> Listing:
    """The one reading of the list's query string (``queue`` and the filters), for the page and the export."""
    queue = QUEUE_BY_CODE.get(query.get("queue", ""), QUEUE_BY_CODE["all"])
    form = FilterForm(user, query or None)
    filtered = visible_cases(user)
    valid = True
    if form.is_bound and form.is_valid():
        try:
            filtered = filter_cases(user, _filters(form))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            valid = False
    elif form.is_bound:
        valid = False
    return Listing(queue=queue, form=form, filtered=filtered, now=now, valid=valid)


def _unit_choices(user: User) -> list[tuple[str, str]]:
    units = visible_units(user).filter(is_active=True).order_by("jurisdiction__path", "name")
    return [(u.code, u.name) for u in units.only("code", "name")]


def _can_dispatch(user: User) -> bool:
    scope = scope_of(user)
    return scope.is_superuser or any(Cap.DISPATCH in e.case_caps for e in scope.entries)


def _rows(qs: QuerySet[Case], offset: int) -> list[Case]:
    return list(
        qs.select_related("category", "origin", "lead_unit", "grid_cell")
        # The list never shows these, and the phone would be decrypted row by row.
        .defer("description", "reply", "reporter_phone")
        .order_by("-received_at", "-pk")[offset : offset + PAGE + 1]
    )


@require_workplace(Workplace.CASES)
def queues(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    now = clock.now()
    listed = listing(user, request.GET, now)
    queue, form = listed.queue, listed.form
    status = 200 if listed.valid else 422
    counts = listed.filtered.aggregate(**{q.code: Count("pk", filter=q.where(now)) for q in QUEUES})
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    rows = _rows(listed.cases, offset) if listed.valid else []
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    # Pairs, not a dict: ``status`` may be repeated.
    params = [(k, v) for k, values in request.GET.lists() if k != "offset" for v in values if v]
    filter_query = clean_query(urlencode(params))
    context = {
        "queues": [(q, counts[q.code]) for q in QUEUES],
        "queue": queue,
        "form": form,
        "rows": [(case, deadline_of(case, now)) for case in rows],
        "offset": offset,
        "next_url": "?" + urlencode([*params, ("offset", offset + PAGE)]) if more else None,
        "prev_url": "?" + urlencode([*params, ("offset", max(0, offset - PAGE))]) if offset else None,
        "filter_query": filter_query,
        # The export links carry the filters and the queue shown; a list over the cap offers none (the
        # export would refuse it) but says why.
        "export_query": urlencode(
            [*((k, v) for k, v in parse_qsl(filter_query) if k != "queue"), ("queue", queue.code)]
        ),
        "can_export": listed.valid,
        "export_limit": settings.CASE_EXPORT_MAX_ROWS,
        "export_too_large": counts[queue.code] > settings.CASE_EXPORT_MAX_ROWS,
        "saved": SavedFilter.objects.filter(owner=user),
        "can_bulk_dispatch": queue.code == "dispatch" and _can_dispatch(user) and bool(rows),
        # Written by the Python select: a district has hundreds of units.
        "bulk_lead_select": (
            QuickSelect(choices=[("", "—"), *_unit_choices(user)]).render(
                "lead_unit", "", {"id": "bulk-lead", "required": True}
            )
            if queue.code == "dispatch"
            else ""
        ),
        "filters_open": any(k in form.fields for k, _ in params),
    }
    return render(request, "cases/queues.html", context, status=status)


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("cases:queues")


@require_POST
@require_workplace(Workplace.CASES)
def save_filter(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    query = request.POST.get("query", "")
    try:
        saved = do_save_filter(name=request.POST.get("name", ""), query=query, actor=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return HttpResponseRedirect(
            reverse("cases:queues") + ("?" + clean_query(query) if query else ""), status=303
        )
    messages.success(request, _("Saved the filter “%(name)s”.") % {"name": saved.name})
    return HttpResponseRedirect(reverse("cases:queues") + "?" + saved.query, status=303)


@require_POST
@require_workplace(Workplace.CASES)
def delete_filter(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    saved = get_object_or_404(SavedFilter, pk=pk, owner=user)  # someone else's filter is a 404
    do_delete_filter(saved, actor=user)
    messages.success(request, _("Deleted the filter “%(name)s”.") % {"name": saved.name})
    return HttpResponseRedirect(reverse("cases:queues"), status=303)


@require_POST
@require_workplace(Workplace.CASES)
def bulk_dispatch(request: HttpRequest) -> HttpResponse:
    """Dispatch the ticked cases to one lead unit: the dispatch action once per case, each on its own, so one
    refusal (another jurisdiction's case, a case dispatched meanwhile) does not stop the others."""
    user = acting_user(request)
    numbers = request.POST.getlist("cases")
    lead = request.POST.get("lead_unit", "")
    if not numbers:
        messages.error(request, _("Tick the cases to dispatch."))
        return HttpResponseRedirect(_back(request), status=303)
    if not lead:
        messages.error(request, _("Choose the lead unit."))
        return HttpResponseRedirect(_back(request), status=303)
    found = {c.number: c for c in visible_cases(user).filter(number__in=numbers[:200])}
    done: list[str] = []
    for number in numbers[:200]:
        case = found.get(number)
        if case is None:  # not visible to this user: refused like a 404, without saying whether it exists
            messages.error(request, _("%(number)s: not found.") % {"number": number})
            continue
        try:
            perform(user, case, Action.DISPATCH, DispatchIn(lead_unit=lead, assist_units=[], version=None))
        except ValidationError as exc:
            messages.error(request, f"{number}: {'；'.join(exc.messages)}")
        except (PermissionDenied, TransitionNotAllowed, CaseConflict) as exc:
            reason = (
                str(exc)
                if not isinstance(exc, TransitionNotAllowed)
                else _("it is no longer waiting for dispatch.")
            )
            messages.error(request, f"{number}: {reason or _('You may not do this.')}")
        else:
            done.append(number)
    if done:
        messages.success(
            request, _("Dispatched %(n)s cases: %(numbers)s.") % {"n": len(done), "numbers": "、".join(done)}
        )
    return HttpResponseRedirect(_back(request), status=303)
