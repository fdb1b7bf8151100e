"""The grid worker's phone screens (网格员): my grid, report an event, my tasks, the household visit log.

Views parse, authorize and call actions. Every read goes through the scoped querysets (queries.py), so a
case, cell or visit outside the user's cells is a 404, whatever the URL or a hidden field says. The core
flows are plain form POSTs with a 303 redirect; the map only draws what the page also lists.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import Workplace, acting_user, require_workplace, visible_cases
from civicgrid.cases.actions import CaseConflict, do_revisit, do_verify
from civicgrid.cases.models import Case, PhotoStage, Timing
from civicgrid.cases.workflow import Action, TransitionNotAllowed
from civicgrid.fieldwork.actions import do_log_household_visit, do_report_event
from civicgrid.fieldwork.forms import (
    CellPickForm,
    ReportForm,
    RevisitForm,
    VerifyForm,
    VisitFilterForm,
    VisitForm,
    photo_uploads,
)
from civicgrid.fieldwork.queries import (
    MAX_LISTED_CASES,
    cases_in_my_cells,
    my_cells,
    my_tasks,
    open_cases,
    task_action,
    visible_visits,
)
from civicgrid.grids.models import GridCell
from civicgrid.lib import clock

VISITS_PER_PAGE = 25
LATE = frozenset({Timing.OVERDUE.value, Timing.SERIOUS.value})  # plain values: templates test `in`
# The report map draws every cell of the user's when there are few (a worker's, a leader's community);
# a superuser works everywhere, so only the chosen cell is drawn.
MAX_MAP_CELLS = 12


def _see_other(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url, status=303)


def _apply_errors(form: Form, exc: ValidationError, renames: dict[str, str] | None = None) -> None:
    """Put an action's ValidationError on the form: at the field it names, else at the top."""
    renames = renames or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for name, messages_ in exc.message_dict.items():
        target = renames.get(name, name)
        for message in messages_:
            form.add_error(target if target in form.fields else None, message)


def _map_settings() -> dict[str, str]:
    return {"tile_url": settings.MAP_TILE_URL, "tile_attribution": settings.MAP_TILE_ATTRIBUTION}


def _cell_shapes(cells: list[GridCell]) -> list[dict[str, Any]]:
    return [{"code": c.code, "name": c.name, "boundary": c.boundary} for c in cells]


# --- My grid ------------------------------------------------------------------------------------------


@require_workplace(Workplace.FIELD)
def home(request: HttpRequest) -> HttpResponse:
    """My grid: the cell on a map with its open cases as points, and the same cases as a list."""
    user = acting_user(request)
    code = request.GET.get("cell")
    cell: GridCell | None = None
    if code:
        cell = get_object_or_404(my_cells(user).select_related("community"), code=code)
    else:
        cell = my_cells(user).select_related("community").order_by("code").first()
    # Only the codes and names: a superuser works every cell, and the picker lists them all.
    cells = my_cells(user).only("code", "name").order_by("code")
    picker = CellPickForm(cells, initial={"cell": cell.code if cell else None})
    cases: list[Case] = []
    open_count = 0
    if cell is not None:
        query = open_cases(user, cell).only(
            "number", "title", "status", "address", "lon", "lat", "due_at", "timing", "received_at"
        )
        cases = list(query[:MAX_LISTED_CASES])
        open_count = len(cases) if len(cases) < MAX_LISTED_CASES else query.count()
    since = clock.now() - timedelta(days=30)
    context = {
        "picker": picker if cell is not None and cells[:2].count() > 1 else None,
        "cell": cell,
        "cases": cases,
        "open_count": open_count,
        "task_count": len(my_tasks(user)),
        "visit_count": visible_visits(user).filter(by_id=user.pk, visited_at__gte=since).count(),
        "map_data": {
            "cells": _cell_shapes([cell]) if cell is not None else [],
            "cases": [
                {
                    "number": c.number,
                    "title": c.title,
                    "status": c.get_status_display(),
                    "lon": c.lon,
                    "lat": c.lat,
                    "late": c.timing in LATE,
                    "url": reverse("fieldwork:task", args=[c.number]),
                }
                for c in cases
                if c.lon is not None and c.lat is not None
            ],
        },
        **_map_settings(),
    }
    return render(request, "fieldwork/home.html", context)


# --- Report an event ----------------------------------------------------------------------------------


def _report_initial(request: HttpRequest, user: User) -> dict[str, Any]:
    """Prefill from the page the worker came from: a cell (my grid) or a household visit."""
    initial: dict[str, Any] = {}
    code = request.GET.get("cell")
    if code:
        initial["cell"] = get_object_or_404(my_cells(user), code=code).code
    visit_id = request.GET.get("visit")
    if visit_id:
        if not visit_id.isdigit():
            raise Http404
        visit = get_object_or_404(
            visible_visits(user).filter(created_case__isnull=True).select_related("grid_cell", "building"),
            pk=int(visit_id),
        )
        initial.update(
            visit=visit.pk,
            cell=visit.grid_cell.code,
            address=visit.address,
            description=visit.findings,
        )
        if visit.building is not None and visit.building.lon is not None:
            initial.update(lon=visit.building.lon, lat=visit.building.lat)
    return initial


def _render_report(request: HttpRequest, user: User, form: ReportForm, *, status: int = 200) -> HttpResponse:
    cells = list(form.fields["cell"].queryset)  # type: ignore[attr-defined]
    chosen = form["cell"].value()
    if len(cells) > MAX_MAP_CELLS:
        cells = [c for c in cells if c.code == chosen] or cells[:1]
    shapes = list(GridCell.objects.filter(pk__in=[c.pk for c in cells]).order_by("code"))
    context = {"form": form, "map_data": {"cells": _cell_shapes(shapes), "cases": []}, **_map_settings()}
    return render(request, "fieldwork/report.html", context, status=status)


@require_workplace(Workplace.FIELD)
def report(request: HttpRequest) -> HttpResponse:
    """上报事件: category, what, photos and where; taken in through the case intake."""
    user = acting_user(request)
    if request.method != "POST":
        return _render_report(request, user, ReportForm(user, initial=_report_initial(request, user)))
    form = ReportForm(user, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        has_point = data["lon"] is not None
        try:
            case, _created = do_report_event(
                category=form.category_object(),
                title=data["title"],
                description=data["description"],
                nature=data["nature"],
                urgency=data["urgency"],
                address=data["address"],
                lon=data["lon"],
                lat=data["lat"],
                # Without a point the case lies in the chosen cell's community (the intake needs a place).
                jurisdiction=None if has_point else data["cell"].community,
                photos=photo_uploads(form.photos()),
                intake_key=data["intake_key"],
                visit=data["visit"],
                actor=user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc, {"location": "lon" if has_point else "cell", "photos": "photo_1"})
        except PermissionDenied as exc:
            # The intake refuses places outside the worker's grants (can_report_at): say so at the place.
            form.add_error("lon" if has_point else "cell", str(exc) or _("You may not report events here."))
        else:
            return _see_other(reverse("fieldwork:reported", args=[case.number]))
    return _render_report(request, user, form, status=422)


@require_workplace(Workplace.FIELD)
def reported(request: HttpRequest, number: str) -> HttpResponse:
    """The confirmation after a report: the case number to quote, and what happens next."""
    user = acting_user(request)
    case = get_object_or_404(
        visible_cases(user)
        .filter(created_by_id=user.pk)
        .select_related("grid_cell", "category", "jurisdiction"),
        number=number,
    )
    photo_count = case.photos.count()
    return render(request, "fieldwork/reported.html", {"case": case, "photo_count": photo_count})


# --- My tasks -----------------------------------------------------------------------------------------


@require_workplace(Workplace.FIELD)
def tasks(request: HttpRequest) -> HttpResponse:
    """Cases in my cells waiting for me: replies to verify on site (核查), resolved cases to revisit."""
    user = acting_user(request)
    return render(request, "fieldwork/tasks.html", {"tasks": my_tasks(user)})


def _task_case(user: User, number: str) -> Case:
    return get_object_or_404(
        cases_in_my_cells(user).select_related("grid_cell", "category", "lead_unit"), number=number
    )


def _render_task(
    request: HttpRequest,
    user: User,
    case: Case,
    *,
    verify_form: VerifyForm | None = None,
    revisit_form: RevisitForm | None = None,
    status: int = 200,
) -> HttpResponse:
    action = task_action(user, case)
    submitted: Form | None = verify_form or revisit_form  # a failed submission: its errors go on top
    if action != Action.VERIFY:
        verify_form = None  # the case moved on (409): the errors stay, the form goes
    elif verify_form is None:
        verify_form = VerifyForm(initial={"version": case.version})
    if action != Action.REVISIT:
        revisit_form = None
    elif revisit_form is None:
        revisit_form = RevisitForm(initial={"version": case.version})
    photos: dict[str, int] = {}
    for stage in case.photos.values_list("stage", flat=True):
        photos[stage] = photos.get(stage, 0) + 1
    context = {
        "case": case,
        "verify_form": verify_form,
        "revisit_form": revisit_form,
        "submitted": submitted,
        "photos_reported": photos.get(PhotoStage.INTAKE, 0),
        "photos_reply": photos.get(PhotoStage.REPLY, 0),
        "photos_verify": photos.get(PhotoStage.VERIFY, 0),
    }
    return render(request, "fieldwork/task.html", context, status=status)


@require_workplace(Workplace.FIELD)
def task(request: HttpRequest, number: str) -> HttpResponse:
    """One case in my cells: the facts, and the verify (or revisit) form when it waits for me."""
    user = acting_user(request)
    return _render_task(request, user, _task_case(user, number))


def _stale_or_moved(form: Form, exc: Exception) -> None:
    if isinstance(exc, CaseConflict):
        form.add_error(None, str(exc))
    else:
        form.add_error(None, _("This case has moved on and no longer waits for this step."))


@require_workplace(Workplace.FIELD)
@require_POST
def verify(request: HttpRequest, number: str) -> HttpResponse:
    """核查: passed → resolved; failed → back to the unit (返工), with a note saying what is still wrong."""
    user = acting_user(request)
    case = _task_case(user, number)
    form = VerifyForm(request.POST, request.FILES)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        if data["version"] is not None:
            case.version = data["version"]  # the version the worker read: the action compares it under lock
        try:
            photo = data["photo"]
            do_verify(
                case,
                passed=data["passed"],
                note=data["note"],
                photos=photo_uploads([photo] if photo else []),
                actor=user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except (CaseConflict, TransitionNotAllowed) as exc:
            _stale_or_moved(form, exc)
            status = 409
            case = _task_case(user, number)
        else:
            done = _("Verification recorded: passed.") if data["passed"] else _("Sent back for rework.")
            messages.success(request, f"{case.number} · {done}")
            return _see_other(reverse("fieldwork:tasks"))
    return _render_task(request, user, case, verify_form=form, status=status)


@require_workplace(Workplace.FIELD)
@require_POST
def revisit(request: HttpRequest, number: str) -> HttpResponse:
    """回访 on site (for those who revisit): solved? satisfied?"""
    user = acting_user(request)
    case = _task_case(user, number)
    form = RevisitForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        if data["version"] is not None:
            case.version = data["version"]
        try:
            do_revisit(
                case,
                channel=data["channel"],
                reached=data["reached"],
                resolution=data["resolution"],
                satisfaction=data["satisfaction"],
                comment=data["comment"],
                actor=user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except (CaseConflict, TransitionNotAllowed) as exc:
            _stale_or_moved(form, exc)
            status = 409
            case = _task_case(user, number)
        else:
            done = _("Revisit recorded.")
            messages.success(request, f"{case.number} · {done}")
            return _see_other(reverse("fieldwork:tasks"))
    return _render_task(request, user, case, revisit_form=form, status=status)


# --- Household visits ---------------------------------------------------------------------------------


@require_workplace(Workplace.FIELD)
def visits(request: HttpRequest) -> HttpResponse:
    """The household visit log of my cells, newest first, by building and purpose."""
    user = acting_user(request)
    query = visible_visits(user).select_related("grid_cell", "building", "by", "created_case")
    filters = VisitFilterForm(user, request.GET or None)
    if filters.is_bound and filters.is_valid():
        if filters.cleaned_data["building"] is not None:
            query = query.filter(building=filters.cleaned_data["building"])
        if filters.cleaned_data["purpose"]:
            query = query.filter(purpose=filters.cleaned_data["purpose"])
    page = Paginator(query.order_by("-visited_at", "-pk"), VISITS_PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {"filters": filters, "page": page, "query": params.urlencode(), "user_id": user.pk}
    return render(request, "fieldwork/visits.html", context)


@require_workplace(Workplace.FIELD)
def visit_new(request: HttpRequest) -> HttpResponse:
    """Log a household visit in one of my cells."""
    user = acting_user(request)
    if request.method != "POST":
        initial: dict[str, Any] = {}
        code = request.GET.get("cell")
        if code:
            initial["grid_cell"] = get_object_or_404(my_cells(user), code=code).code
        return render(request, "fieldwork/visit_form.html", {"form": VisitForm(user, initial=initial)})
    form = VisitForm(user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            do_log_household_visit(
                grid_cell=data["grid_cell"],
                building=data["building"],
                address=data["address"],
                household_head=data["household_head"],
                visited_at=data["visited_at"],
                purpose=data["purpose"],
                findings=data["findings"],
                needs_follow_up=data["needs_follow_up"],
                actor=user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Visit logged."))
            return _see_other(reverse("fieldwork:visits"))
    return render(request, "fieldwork/visit_form.html", {"form": form}, status=422)
