"""The resident portal's pages (public, no login). Views parse the forms and call the actions; whoever holds
a tracking link's secret may follow, rate and ask to reopen that one case, and nothing else. A staff member
who happens to be logged in is treated like any resident (the actions write with no actor).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.cases.actions import CaseConflict, do_revisit
from civicgrid.cases.models import Category, RevisitChannel
from civicgrid.cases.workflow import Status, TransitionNotAllowed
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib import clock
from civicgrid.portal import actions, links, queries
from civicgrid.portal.forms import RateForm, ReopenForm, ReportForm, SupportForm, TrackLookupForm
from civicgrid.portal.models import PortalPolicy, ReopenRequest, TrackingLink
from civicgrid.portal.timeline import resident_status, resident_timeline


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: behind a proxy, the proxy must pass the client's address on (docs/operations.md).
    return str(request.META.get("REMOTE_ADDR", ""))


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/not_found.html", status=404)


def _float(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if -180.0 <= number <= 180.0 else None


# --- Submitting a request --------------------------------------------------------------------------------


def _render_report(
    request: HttpRequest, form: ReportForm, policy: PortalPolicy, *, status: int = 200, limited: str = ""
) -> HttpResponse:
    area = policy.service_area
    nearby: list[queries.Nearby] | None = None
    if form.is_bound:
        lon, lat = _float(form.data.get("lon")), _float(form.data.get("lat"))
        if lon is not None and lat is not None and -90 <= lat <= 90:
            category = form.cleaned_data.get("category") if hasattr(form, "cleaned_data") else None
            nearby = queries.similar_open_cases(
                lon, lat, category if isinstance(category, Category) else None, at=clock.now()
            )
    context: dict[str, Any] = {
        "form": form,
        "limited": limited,
        "nearby": nearby,
        "area": area,
        "had_photos": bool(request.FILES.getlist("photos")) if form.is_bound else False,
        "boundaries": _area_shapes(area),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "portal_page": "report",
    }
    return render(request, "portal/report.html", context, status=status)


def _area_shapes(area: Any) -> dict[str, Any] | None:
    """The service area and its streets as GeoJSON, drawn under the map so residents can find their place
    without a base map (the boundaries are public). None when the portal serves everywhere."""
    if area is None or not area.boundary:
        return None
    features = [
        {"type": "Feature", "properties": {"name": area.name, "role": "area"}, "geometry": area.boundary}
    ]
    parts = (
        Jurisdiction.objects.filter(parent=area, is_active=True)
        .exclude(boundary=None)
        .order_by("path")
        .values_list("name", "boundary")
    )
    for name, boundary in parts:
        features.append(
            {"type": "Feature", "properties": {"name": name, "role": "part"}, "geometry": boundary}
        )
    return {"type": "FeatureCollection", "features": features}


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The report form: GET shows it with a fresh idempotency key; POST takes the request in."""
    policy = queries.current_policy()
    if request.method != "POST":
        form = ReportForm(policy=policy, initial={"form_key": links.new_form_key()})
        return _render_report(request, form, policy)
    form = ReportForm(request.POST, request.FILES, policy=policy)
    if form.is_robot:
        actions.do_log_honeypot(ip_address=_address(request), actor=None)
        return _see_other(reverse("portal:thanks"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            submission = actions.do_submit_request(
                form_key=data["form_key"],
                ip_address=_address(request),
                nature=data["nature"],
                title=data["title"],
                description=data["description"],
                category=data["category"],
                address=data["address"],
                lon=data["lon"],
                lat=data["lat"],
                jurisdiction=data["jurisdiction"],
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"],
                is_anonymous=data["is_anonymous"],
                photos=form.photo_uploads(),
                actor=None,
            )
        except actions.RateLimited as exc:
            return _render_report(request, form, policy, status=429, limited=exc.message)
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            return _see_other(reverse("portal:receipt", args=[submission.secret]))
    return _render_report(request, form, policy, status=422)


@require_GET
def similar(request: HttpRequest) -> HttpResponse:
    """The "similar open requests nearby" panel (htmx, when the resident puts the pin or picks a category)."""
    lon, lat = _float(request.GET.get("lon")), _float(request.GET.get("lat"))
    nearby: list[queries.Nearby] | None = None
    if lon is not None and lat is not None and -90 <= lat <= 90:
        category_id = request.GET.get("category", "")
        category = (
            queries.report_categories().filter(pk=category_id).first() if category_id.isdigit() else None
        )
        nearby = queries.similar_open_cases(lon, lat, category, at=clock.now())
    return render(request, "portal/_similar.html", {"nearby": nearby})


@require_POST
def support(request: HttpRequest, number: str) -> HttpResponse:
    """ "I have the same problem" on an open case shown in the similar panel. The report form's phone field
    comes along when the resident typed one (optional)."""
    case = queries.open_case_by_number(number)
    if case is None:
        return _not_found(request)
    form = SupportForm(request.POST)
    outcome = ""
    if form.is_valid():
        try:
            _support, created = actions.do_add_support(
                case, ip_address=_address(request), phone=form.cleaned_data["reporter_phone"], actor=None
            )
        except actions.RateLimited as exc:
            form.add_error(None, exc.message)
        else:
            outcome = "added" if created else "already"
    status = 200 if outcome else (429 if form.non_field_errors() else 422)
    if request.htmx:  # type: ignore[attr-defined]
        context = {"number": case.number, "outcome": outcome, "form": form}
        return render(request, "portal/_supported.html", context, status=status)
    if not outcome:
        return render(
            request, "portal/support_failed.html", {"number": case.number, "form": form}, status=status
        )
    if outcome == "added":
        messages.success(
            request, _("Thank you. Your support was added to case %(number)s.") % {"number": case.number}
        )
    else:
        messages.info(request, _("You already supported case %(number)s.") % {"number": case.number})
    return _see_other(reverse("portal:report"))


@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/thanks.html")


# --- Following a request ----------------------------------------------------------------------------------


def _link(secret: str) -> TrackingLink | None:
    return queries.link_for_secret(secret) if links.looks_like_secret(secret) else None


# Pages opened by a tracking link: never stored by a cache (the secret is in the address).
@never_cache
@require_GET
def receipt(request: HttpRequest, secret: str) -> HttpResponse:
    link = _link(secret)
    if link is None:
        return _not_found(request)
    case = link.case
    track_url = request.build_absolute_uri(reverse("portal:track", args=[secret]))
    context = {
        "case": case,
        "secret": secret,
        "track_url": track_url,
        "expected": queries.expected_reply_at(case),
        "status": resident_status(case),
        "portal_page": "track",
    }
    return render(request, "portal/receipt.html", context)


@require_GET
def track_lookup(request: HttpRequest) -> HttpResponse:
    """ "Track my request": paste the link (or its code) from the receipt."""
    if "link" not in request.GET:
        return render(
            request, "portal/track_lookup.html", {"form": TrackLookupForm(), "portal_page": "track"}
        )
    form = TrackLookupForm(request.GET)
    if form.is_valid():
        return _see_other(reverse("portal:track", args=[form.cleaned_data["link"]]))
    return render(request, "portal/track_lookup.html", {"form": form, "portal_page": "track"}, status=422)


def _render_track(
    request: HttpRequest,
    link: TrackingLink,
    secret: str,
    *,
    rate_form: RateForm | None = None,
    reopen_form: ReopenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    case = link.case
    policy = queries.current_policy()
    now = clock.now()
    refusal = queries.reopen_refusal(case, policy, at=now) if case.status == Status.REVISITED else None
    last_revisit = case.revisits.order_by("-at", "-pk").first() if case.status != Status.RESOLVED else None
    requests = list(ReopenRequest.objects.filter(case=case).order_by("-at")[:1])
    context = {
        "case": case,
        "secret": secret,
        "status": resident_status(case),
        "timeline": resident_timeline(case),
        "expected": queries.expected_reply_at(case),
        "show_reply": bool(case.reply) and case.replied_at is not None,
        "supports": queries.support_count(case),
        "can_rate": case.status == Status.RESOLVED,
        "rate_form": rate_form or RateForm(),
        "last_revisit": last_revisit,
        # A refused request is shown again with the refusal at its field.
        "can_reopen": (case.status == Status.REVISITED and refusal is None) or reopen_form is not None,
        "reopen_refusal": refusal,
        "reopen_form": reopen_form or ReopenForm(),
        "reopen_deadline": queries.reopen_deadline(case, policy),
        "last_request": requests[0] if requests else None,
        "portal_page": "track",
    }
    return render(request, "portal/track.html", context, status=status)


@never_cache
@require_GET
def track(request: HttpRequest, secret: str) -> HttpResponse:
    link = _link(secret)
    if link is None:
        return _not_found(request)
    return _render_track(request, link, secret)


@never_cache
@require_POST
def rate(request: HttpRequest, secret: str) -> HttpResponse:
    """回访 by the resident: after the work was checked (status resolved), whether it was solved and whether
    they are satisfied — recorded by the case action, on the web channel."""
    link = _link(secret)
    if link is None:
        return _not_found(request)
    form = RateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            do_revisit(
                link.case,
                channel=RevisitChannel.WEB,
                resolution=data["resolution"],
                satisfaction=data["satisfaction"],
                comment=data["comment"],
                actor=None,
            )
        except ValidationError as exc:
            form.add_action_errors(exc)
        except (TransitionNotAllowed, CaseConflict):
            form.add_error(
                None, _("This case cannot be rated now. Reload the page to see its current state.")
            )
        else:
            messages.success(request, _("Thank you for your feedback."))
            return _see_other(reverse("portal:track", args=[secret]) + "#feedback")
    return _render_track(request, link, secret, rate_form=form, status=422)


@never_cache
@require_POST
def reopen(request: HttpRequest, secret: str) -> HttpResponse:
    """Ask the oversight office to handle a closed case again (decided on the staff case page)."""
    link = _link(secret)
    if link is None:
        return _not_found(request)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            actions.do_request_reopen(link.case, reason=form.cleaned_data["reason"], actor=None)
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(
                request,
                _("Your request to reopen the case was sent. The oversight office will decide on it."),
            )
            return _see_other(reverse("portal:track", args=[secret]) + "#feedback")
    return _render_track(request, link, secret, reopen_form=form, status=422)
