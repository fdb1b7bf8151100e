"""The case page: facts, map, deadlines, assignments, records, attachments, the timeline, and an action
panel offering only what the user may do now (the API's ``allowed_actions``).

An action is a POST to ``/cases/<number>/act/<action>/``: the case is looked up in ``visible_cases`` (404
outside the user's scope), the form is parsed into the action's API body and run through
``civicgrid.cases.performing.perform`` — the API's own path — so the page enforces the same permissions
and validation. A refused submission re-renders the page with the form open, the message at the field
and everything typed still there.
"""

from __future__ import annotations

from typing import Any

import pydantic
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import (
    Workplace,
    acting_user,
    can_view_reporter_phone,
    case_action_allowed,
    require_workplace,
    visible_cases,
)
from civicgrid.cases import actions
from civicgrid.cases.api import detail
from civicgrid.cases.models import (
    AssignmentStatus,
    Case,
    CasePhoto,
    DecisionStatus,
    PhotoStage,
    Resolution,
    RevisitChannel,
    Satisfaction,
    TimeUnit,
)
from civicgrid.cases.performing import SPECS, perform
from civicgrid.cases.views.display import clock_text, deadline_of, event_lines
from civicgrid.cases.views.forms import ActionForm, forms_for
from civicgrid.cases.workflow import Action, Status, TransitionNotAllowed
from civicgrid.core.errors import pydantic_reason
from civicgrid.lib import clock
from civicgrid.open311.queries import staff_summary
from civicgrid.portal.actions import do_decide_reopen_request
from civicgrid.portal.models import ReopenRequest, ReopenStatus
from civicgrid.portal.queries import pending_reopen_requests, support_count


def _label(choices: type[models.TextChoices], value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _case(user: User, number: str) -> Case:
    return get_object_or_404(
        visible_cases(user).select_related("category", "jurisdiction", "lead_unit"), number=number
    )


def _page(
    request: HttpRequest,
    user: User,
    case: Case,
    *,
    bound: ActionForm | None = None,
    phone: str | None = None,
    reopen_error: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    data = detail(user, case.pk)
    case.refresh_from_db()  # the forms' version and choices must match what the page shows
    now = clock.now()
    for event in data["events"]:
        event["lines"] = event_lines(event["data"])
    for k in data["clocks"]:
        k["text"] = clock_text(k["remaining"], k["unit"])
        k["unit_label"] = _label(TimeUnit, k["unit"])
    # The detail is the API's (stable codes); the page shows the codes' labels in the user's language.
    for a in data["assignments"]:
        a["status_label"] = _label(AssignmentStatus, a["status"])
    for x in data["extensions"]:
        x["status_label"] = _label(DecisionStatus, x["status"])
        x["time_unit_label"] = _label(TimeUnit, x["time_unit"])
    for r in data["revisits"]:
        r["channel_label"] = _label(RevisitChannel, r["channel"])
        r["resolution_label"] = _label(Resolution, r["resolution"])
        r["satisfaction_label"] = _label(Satisfaction, r["satisfaction"])
    for p in data["photos"]:
        p["stage_label"] = _label(PhotoStage, p["stage"])
    context: dict[str, Any] = {
        "case": data,
        "obj": case,
        "deadline": deadline_of(case, now),
        "forms": forms_for(case, user, data["allowed_actions"], bound=bound),
        "open_action": bound.action.value if bound is not None else request.GET.get("act", ""),
        "can_reveal": can_view_reporter_phone(user, case) and bool(data["masked_reporter_phone"]),
        "phone": phone,
        # What residents added on the portal: "I have the same problem" and requests to reopen.
        "support_count": support_count(case),
        "reopen_requests": list(pending_reopen_requests(case)),
        "can_decide_reopen": case_action_allowed(user, case, Action.REOPEN),
        "reopen_error": reopen_error,
        "open311": staff_summary(case),
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "cases/case.html", context, status=status)


@require_GET
@require_workplace(Workplace.CASES)
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    user = acting_user(request)
    return _page(request, user, _case(user, number))


def _errors_to_form(form: ActionForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            # Sub-fields (photos.0.content_base64) belong to their field; unknown ones to the whole form.
            name = field.split(".")[0]
            form.add_error(name if name in form.fields and field != NON_FIELD_ERRORS else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_POST
@require_workplace(Workplace.CASES)
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    user = acting_user(request)
    case = _case(user, number)
    if action not in SPECS:
        raise Http404
    code = Action(action)
    form = ActionForm(code, case, user, request.POST, request.FILES)
    status = 422
    if form.is_valid():
        try:
            body = SPECS[code].body.model_validate(form.body_data())
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else None
                form.add_error(name if name in form.fields else None, pydantic_reason(dict(error)))
        else:
            try:
                perform(user, case, code, body)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            except TransitionNotAllowed as exc:
                form.add_error(
                    None,
                    _("You cannot %(action)s a case that is %(status)s.")
                    % {"action": Action(exc.action).label, "status": Status(exc.status).label},
                )
                status = 409
            except actions.CaseConflict as exc:
                form.add_error(None, str(exc))
                status = 409
            except PermissionDenied:
                raise
            else:
                messages.success(request, _("Done: %(action)s.") % {"action": Action(code).label})
                return HttpResponseRedirect(reverse("cases:case", args=[number]) + "#timeline-h", status=303)
    # A stale or refused form is shown again on the fresh case (a conflict shows what changed).
    case = _case(user, number)
    return _page(request, user, case, bound=form, status=status)


@require_POST
@require_workplace(Workplace.CASES)
def reveal_phone(request: HttpRequest, number: str) -> HttpResponse:
    user = acting_user(request)
    case = _case(user, number)
    phone = actions.do_reveal_reporter_phone(case, actor=user, purpose=request.POST.get("purpose", "")[:200])
    if request.headers.get("HX-Request"):
        return render(request, "cases/_phone.html", {"phone": phone, "number": number})
    return _page(request, user, case, phone=phone)


@require_GET
@require_workplace(Workplace.CASES)
def photo(request: HttpRequest, number: str, pk: int) -> FileResponse:
    user = acting_user(request)
    case = _case(user, number)
    item = get_object_or_404(CasePhoto, pk=pk, case=case)
    response = FileResponse(item.file.open("rb"), content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@require_workplace(Workplace.CASES)
def decide_reopen(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """Accept (重办) or decline a resident's request to reopen, from the case page. The portal's action
    reopens through the case action, which checks the user's permission; a decline needs a note."""
    user = acting_user(request)
    case = _case(user, number)
    asked = get_object_or_404(ReopenRequest, pk=pk, case=case, status=ReopenStatus.PENDING)
    decision = request.POST.get("decision", "")
    if decision not in ("accept", "decline"):
        return _page(
            request, user, case, reopen_error={"decision": [_("Choose accept or decline.")]}, status=422
        )
    try:
        do_decide_reopen_request(
            asked,
            accept=decision == "accept",
            note=request.POST.get("note", ""),
            to_dispatch=request.POST.get("to_dispatch") == "on",
            actor=user,
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"note": exc.messages}
        return _page(request, user, _case(user, number), reopen_error=errors, status=422)
    messages.success(request, _("The resident's request is decided."))
    return HttpResponseRedirect(reverse("cases:case", args=[number]), status=303)
