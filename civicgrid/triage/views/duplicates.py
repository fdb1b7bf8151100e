"""Possible duplicates while a call is taken in: ``/triage/duplicates/`` answers the hotline desk's panel
(htmx, as the operator types) with the open cases that may be the same request.

A POST (the CSRF token in htmx's header, as for the desk's caller look-up): what the caller says stays out
of URLs and access logs, and a long description does not run into a proxy's limit on the request line.
Open to whoever works at the hotline or the case screens; the cases come from ``visible_cases`` (inside
``find_duplicates``) and the place named by ``jurisdiction`` from ``visible_jurisdictions`` (a place outside
the user's scope is a 404, like any object out of scope). Without htmx the same list is a page of its own.
Merging happens after intake, on the case page (templatetags/triage_duplicates.py).
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from civicgrid.accounts.permissions import Workplace, acting_user, scope_of, visible_jurisdictions
from civicgrid.triage.duplicates import find_duplicates

# The intake form's own limits (hotline.forms.IntakeForm); longer input is cut, not refused: this is a hint.
_MAX_TITLE, _MAX_TEXT = 200, 20000
WORKPLACES = frozenset({Workplace.HOTLINE, Workplace.CASES})


def _coordinate(raw: str, bound: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= bound else None


@login_required
@require_POST
def duplicates(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not WORKPLACES & scope_of(user).workplaces():
        raise PermissionDenied
    title = request.POST.get("title", "")[:_MAX_TITLE]
    description = request.POST.get("description", "")[:_MAX_TEXT]
    code = request.POST.get("jurisdiction", "").strip()
    place = None
    if code:
        place = visible_jurisdictions(user).filter(code=code).first()
        if place is None:
            raise Http404
    lon = _coordinate(request.POST.get("lon", ""), 180)
    lat = _coordinate(request.POST.get("lat", ""), 90)
    if lon is None or lat is None:
        lon = lat = None
    typed = bool((title + description).strip())
    has_place = place is not None or lon is not None
    found = (
        find_duplicates(user=user, title=title, description=description, lon=lon, lat=lat, jurisdiction=place)
        if typed and has_place
        else []
    )
    context: dict[str, Any] = {"candidates": found, "typed": typed, "has_place": has_place}
    if getattr(request, "htmx", False):
        return render(request, "triage/_duplicate_list.html", context)
    return render(request, "triage/duplicates.html", context)
