"""The case as a resident sees it: its status in plain words and a plain-language timeline.

Built from the case's CaseEvent rows, but never from what staff wrote for each other: no staff names (the
event's actor), no notes, reasons or opinions, no internal steps (urging, co-handlers, extension requests,
clock alarms). Unit and place names are public and may appear. Each event code maps to one sentence; codes
not listed here are left out, so a new internal action stays internal until someone words it for residents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from civicgrid.cases.models import Case, CaseEvent, Resolution, Satisfaction
from civicgrid.cases.workflow import Action, Status
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.portal.models import ReopenRequest, ReopenStatus


@dataclass(frozen=True)
class ResidentStatus:
    label: str
    explanation: str
    badge: str  # a site.css badge class: ok, warning, info, danger or ""


# (label, explanation, badge) per status, in the words of a resident, not of the workflow.
_STATUS = {
    Status.RECEIVED: (
        pgettext_lazy("resident status", "Received"),
        gettext_lazy("We have received your request and will check it shortly."),
        "info",
    ),
    Status.CONFIRMING: (
        pgettext_lazy("resident status", "Being checked on site"),
        gettext_lazy("Staff are checking the problem on site before taking it up."),
        "info",
    ),
    Status.REGISTERED: (
        pgettext_lazy("resident status", "Accepted"),
        gettext_lazy("Your request has been accepted and is being passed to the responsible office."),
        "info",
    ),
    Status.DISPATCHED: (
        pgettext_lazy("resident status", "Passed to the responsible office"),
        gettext_lazy("The responsible office has been asked to take the case."),
        "info",
    ),
    Status.RETURN_REQUESTED: (
        pgettext_lazy("resident status", "Finding the right office"),
        gettext_lazy("We are confirming which office is responsible for your case."),
        "info",
    ),
    Status.HANDLING: (
        pgettext_lazy("resident status", "Being handled"),
        gettext_lazy("The responsible office is working on your case."),
        "info",
    ),
    Status.WAITING: (
        pgettext_lazy("resident status", "Waiting for you"),
        gettext_lazy("The office needs more information from you and will contact you."),
        "warning",
    ),
    Status.SUSPENDED: (
        pgettext_lazy("resident status", "Paused"),
        gettext_lazy("Handling is paused for now, for example while another authority decides."),
        "warning",
    ),
    Status.REPLIED: (
        pgettext_lazy("resident status", "Replied"),
        gettext_lazy("The office has replied; the result is being checked."),
        "ok",
    ),
    Status.RESOLVED: (
        pgettext_lazy("resident status", "Done"),
        gettext_lazy("The work is done and was checked. Please tell us whether the problem was solved."),
        "ok",
    ),
    Status.REVISITED: (
        pgettext_lazy("resident status", "Closed"),
        gettext_lazy("The case is closed and your feedback has been recorded."),
        "ok",
    ),
    Status.ARCHIVED: (
        pgettext_lazy("resident status", "Closed"),
        gettext_lazy("The case is closed."),
        "ok",
    ),
    Status.DIRECT_ANSWERED: (
        pgettext_lazy("resident status", "Answered"),
        gettext_lazy("Your question was answered."),
        "ok",
    ),
    Status.VOID: (
        pgettext_lazy("resident status", "Not taken up"),
        gettext_lazy("Your request could not be taken up. Call 12345 to hear why."),
        "danger",
    ),
    Status.MERGED: (
        pgettext_lazy("resident status", "Handled with another report"),
        gettext_lazy("Someone reported the same problem earlier; it is handled as one case."),
        "info",
    ),
    Status.SPLIT: (
        pgettext_lazy("resident status", "Handled in parts"),
        gettext_lazy("Your request covers several matters; each is handled by the responsible office."),
        "info",
    ),
    Status.WITHDRAWN: (
        pgettext_lazy("resident status", "Withdrawn"),
        gettext_lazy("The request was withdrawn."),
        "",
    ),
}
assert set(_STATUS) == set(Status), "every status needs resident wording"


def resident_status(case: Case) -> ResidentStatus:
    label, explanation, badge = _STATUS[Status(case.status)]
    return ResidentStatus(str(label), str(explanation), badge)


def status_label(status: str) -> str:
    return str(_STATUS[Status(status)][0])


@dataclass(frozen=True)
class Entry:
    at: datetime
    text: str


Wording = Callable[[CaseEvent, dict[str, str]], str | None]


def _unit(event: CaseEvent) -> str:
    return event.unit.name if event.unit is not None else _("the responsible office")


def _place(event: CaseEvent, places: dict[str, str], key: str) -> str:
    return places.get(str(event.data.get(key, "")), "") or _("another office")


def _verify(event: CaseEvent, places: dict[str, str]) -> str:
    if event.data.get("passed"):
        return _("The result was checked and the case was closed.")
    return _("The result was checked and more work was found necessary; the office continues.")


def _revisit(event: CaseEvent, places: dict[str, str]) -> str:
    if not event.data.get("reached", True):
        return _("We tried to reach you for your feedback.")
    resolution = str(event.data.get("resolution") or "")
    satisfaction = str(event.data.get("satisfaction") or "")
    return _("Your feedback was recorded: %(resolution)s, %(satisfaction)s.") % {
        "resolution": Resolution(resolution).label if resolution in Resolution.values else "—",
        "satisfaction": Satisfaction(satisfaction).label if satisfaction in Satisfaction.values else "—",
    }


def _extension(event: CaseEvent, places: dict[str, str]) -> str | None:
    return _("The time for handling was extended.") if event.data.get("approved") else None


def _milestone(event: CaseEvent, places: dict[str, str]) -> str | None:
    label = str(event.data.get("label") or "")
    return _("A stage of the work was completed: %(stage)s.") % {"stage": label} if label else None


WORDING: dict[str, Wording] = {
    Action.CREATE: lambda e, p: _("We received your request."),
    Action.REQUEST_CONFIRMATION: lambda e, p: _("Staff were asked to check the problem on site."),
    Action.REGISTER: lambda e, p: _("Your request was accepted."),
    Action.VOID: lambda e, p: _("Your request could not be taken up."),
    Action.MERGE: lambda e, p: _("Your request was joined with an earlier report of the same problem."),
    Action.SPLIT: lambda e, p: _("Your request was divided into parts, each for the responsible office."),
    Action.DISPATCH: lambda e, p: _("Passed to %(unit)s.") % {"unit": _unit(e)},
    Action.ACCEPT: lambda e, p: _("%(unit)s took the case and is working on it.") % {"unit": _unit(e)},
    Action.APPROVE_RETURN: lambda e, p: _("The case is being passed to the office responsible for it."),
    Action.ESCALATE: lambda e, p: _("The case was passed up to %(place)s.") % {"place": _place(e, p, "to")},
    Action.ASSIGN_DOWN: lambda e, p: _("The case was passed to %(place)s.") % {"place": _place(e, p, "to")},
    Action.DECIDE_EXTENSION: _extension,
    Action.AWAIT_RESIDENT: lambda e, p: _("The office asked for more information from you."),
    Action.RESIDENT_RESPONDED: lambda e, p: _("Your additional information was received."),
    Action.SUSPEND: lambda e, p: _("Handling was paused."),
    Action.RESUME: lambda e, p: _("Handling resumed."),
    Action.COMPLETE_MILESTONE: _milestone,
    Action.SUPERVISE: lambda e, p: _("The oversight office is following the case."),
    Action.REPLY: lambda e, p: _("%(unit)s replied.") % {"unit": _unit(e)},
    Action.VERIFY: _verify,
    Action.REVISIT: _revisit,
    Action.REOPEN: lambda e, p: _("The case was reopened and is being handled again."),
    Action.FORCE_CLOSE: lambda e, p: _("The case was closed by the oversight office."),
    Action.WITHDRAW: lambda e, p: _("The request was withdrawn."),
    Action.ARCHIVE: lambda e, p: _("The case was archived."),
    Action.ANSWER_DIRECTLY: lambda e, p: _("Your question was answered."),
}
# Left out on purpose (internal): request_return, reject_return, request_extension, assist_accept,
# assist_return, assist_reply, urge and the clock alarms (clock.warning, clock.overdue, clock.serious).


def _reopen_entries(requests: list[ReopenRequest]) -> list[Entry]:
    entries: list[Entry] = []
    for r in requests:
        entries.append(Entry(r.at, _("You asked to reopen the case.")))
        if r.decided_at is None:
            continue
        if r.status == ReopenStatus.ACCEPTED:
            entries.append(Entry(r.decided_at, _("Your request to reopen the case was accepted.")))
        elif r.status == ReopenStatus.DECLINED:
            entries.append(Entry(r.decided_at, _("Your request to reopen the case was declined.")))
    return entries


def resident_timeline(case: Case) -> list[Entry]:
    """The case's history in plain words, oldest first, with the resident's own reopen requests."""
    events = list(
        CaseEvent.objects.filter(case=case, code__in=list(WORDING))
        .select_related("unit")
        .only("seq", "code", "at", "data", "unit__name")
        .order_by("seq")
    )
    codes = {
        str(e.data.get("to", ""))
        for e in events
        if e.code in (Action.ESCALATE, Action.ASSIGN_DOWN) and e.data.get("to")
    }
    places = dict(Jurisdiction.objects.filter(code__in=sorted(codes)).values_list("code", "name"))
    entries: list[Entry] = []
    for event in events:
        text = WORDING[event.code](event, places)
        if text:
            entries.append(Entry(event.at, text))
    entries += _reopen_entries(list(ReopenRequest.objects.filter(case=case).order_by("at")))
    entries.sort(key=lambda e: e.at)
    return entries
