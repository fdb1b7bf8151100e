"""The hotline operator's screen (12345): one keyboard-first intake form with the caller's earlier cases and
the knowledge base beside it.

Without JavaScript everything is a POST of the one form to the desk: the button pressed (``do``) says what
to do — look the caller up, search the knowledge base, use an entry (``use_entry``), create the case or
answer directly — and the page comes back with everything typed kept. With htmx the look-up, the search and
picking an entry update their panel in place (``caller``, ``knowledge``, ``entry``); creating and answering
stay plain POSTs that redirect (303) to the confirmation. Reads go through the scoped querysets
(hotline.queries); writes through hotline.actions, which call the case actions.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import Workplace, acting_user, require_workplace, visible_cases
from civicgrid.cases.actions import CaseConflict
from civicgrid.cases.workflow import Status, TransitionNotAllowed
from civicgrid.hotline import actions
from civicgrid.hotline.forms import AnswerPart, IntakeForm, KnowledgeSearchForm
from civicgrid.hotline.models import AnswerUse, KnowledgeEntry
from civicgrid.hotline.queries import caller_history, search_knowledge, visible_knowledge


def _new_intake_key() -> str:
    """A fresh idempotency key per form shown: a resubmission of the same form returns the same case."""
    return f"hotline:{uuid.uuid4().hex}"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- The desk ---------------------------------------------------------------------------------------------


@require_workplace(Workplace.HOTLINE)
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if request.method == "GET":
        form = IntakeForm(user, initial={"intake_key": _new_intake_key()})
        return _desk_page(request, user, form, query=request.GET.get("q", ""))
    mode = request.POST.get("do", "")
    if mode in ("create", "answer"):
        return _submit(request, user, mode)
    # Look-up, search or picking an entry without JavaScript: show the page again with what was typed.
    values = request.POST.dict()
    values.pop("csrfmiddlewaretoken", None)
    focus = {"lookup": "phone", "search": "q"}.get(mode, "phone")
    use = request.POST.get("use_entry", "")
    if use.isdigit():
        chosen = visible_knowledge(user).filter(pk=int(use)).first()
        if chosen is not None:
            values.update(answer=chosen.answer, entry=str(chosen.pk))
            values["title"] = values.get("title") or chosen.title
            focus = "answer"
    values["intake_key"] = values.get("intake_key") or _new_intake_key()
    form = IntakeForm(user, initial=values)
    return _desk_page(
        request, user, form, query=values.get("q", ""), phone=values.get("phone", ""), focus=focus
    )


def _submit(request: HttpRequest, user: User, mode: str) -> HttpResponse:
    form = IntakeForm(user, request.POST, mode=mode)
    if form.is_valid():
        try:
            if mode == "answer":
                case = actions.do_answer_call(
                    form.call(),
                    answer=form.cleaned_data["answer"],
                    entry=form.cleaned_data["entry"],
                    actor=user,
                )
            else:
                case, _created = actions.do_take_call(form.call(), actor=user)
        except ValidationError as exc:
            form.add_action_error(exc)
        except PermissionDenied as exc:
            form.place_error(str(exc) or _("You may not take in calls for this place."))
        except (TransitionNotAllowed, CaseConflict) as exc:
            form.add_error(None, str(exc))
        else:
            return HttpResponseRedirect(reverse("hotline:call", args=[case.number]), status=303)
    phone = request.POST.get("phone", "")
    return _desk_page(request, user, form, query=request.POST.get("q", ""), phone=phone, status=422)


def _desk_page(
    request: HttpRequest,
    user: User,
    form: IntakeForm,
    *,
    query: str = "",
    phone: str = "",
    focus: str = "phone",
    status: int = 200,
) -> HttpResponse:
    if form.is_bound and form.errors:
        focus = ""  # the error summary takes the focus
    if focus in form.fields:
        form.fields[focus].widget.attrs["autofocus"] = True
    search = KnowledgeSearchForm(initial={"q": query})
    if focus == "q":
        search.fields["q"].widget.attrs["autofocus"] = True
    entries, count = search_knowledge(user, query)
    context: dict[str, Any] = {
        "form": form,
        "search": search,
        "entries": entries,
        "kb_count": count,
        "kb_query": query.strip(),
        "picked": _picked_entry(user, form),
        **_caller_context(user, phone),
    }
    return render(request, "hotline/desk.html", context, status=status)


def _picked_entry(user: User, form: IntakeForm) -> KnowledgeEntry | None:
    raw = form.data.get("entry") if form.is_bound else form.initial.get("entry")
    if not raw or not str(raw).isdigit():
        return None
    return visible_knowledge(user).filter(pk=int(raw)).first()


def _caller_context(user: User, phone: str) -> dict[str, Any]:
    if not phone.strip():
        return {"caller": None, "caller_error": ""}
    try:
        return {"caller": caller_history(user, phone), "caller_error": ""}
    except ValidationError as exc:
        return {"caller": None, "caller_error": exc.messages[0]}


# --- The panels (htmx) ------------------------------------------------------------------------------------


@require_workplace(Workplace.HOTLINE)
@require_POST
def caller(request: HttpRequest) -> HttpResponse:
    """The caller's earlier cases (repeat callers). A POST, so the phone stays out of URLs and logs."""
    user = acting_user(request)
    context = _caller_context(user, request.POST.get("phone", ""))
    return render(request, "hotline/_caller.html", context, status=422 if context["caller_error"] else 200)


@require_workplace(Workplace.HOTLINE)
@require_GET
def knowledge(request: HttpRequest) -> HttpResponse:
    """Knowledge base search results; without htmx, the desk showing them."""
    query = request.GET.get("q", "")[:100]
    if not _is_htmx(request):
        return HttpResponseRedirect(reverse("hotline:desk") + "?" + urlencode({"q": query}))
    entries, count = search_knowledge(acting_user(request), query)
    return render(
        request, "hotline/_knowledge.html", {"entries": entries, "kb_count": count, "kb_query": query.strip()}
    )


@require_workplace(Workplace.HOTLINE)
@require_GET
def entry(request: HttpRequest, pk: int) -> HttpResponse:
    """One knowledge base entry: with htmx, the answer box filled with it; otherwise its own page."""
    found = get_object_or_404(
        visible_knowledge(acting_user(request)).select_related("category", "jurisdiction"), pk=pk
    )
    if _is_htmx(request):
        part = AnswerPart(initial={"answer": found.answer, "entry": found.pk})
        return render(request, "hotline/_answer.html", {"form": part, "picked": found})
    return render(request, "hotline/entry.html", {"entry": found})


# --- After the call ---------------------------------------------------------------------------------------


@require_workplace(Workplace.HOTLINE)
@require_GET
def call(request: HttpRequest, number: str) -> HttpResponse:
    """The confirmation: the case number to read out to the caller, its status and due date."""
    case = get_object_or_404(
        visible_cases(acting_user(request)).select_related("category", "origin"), number=number
    )
    answered = case.status == Status.DIRECT_ANSWERED
    used = AnswerUse.objects.filter(case=case).select_related("entry").first() if answered else None
    return render(request, "hotline/call.html", {"case": case, "answered": answered, "used": used})
