"""The statistics pages: the figures of an area for a period with 同比 / 环比 and drill-down, the map, the
printable report, and its .xlsx export. Read-only; everything is in the HTML (the chart is server-drawn SVG,
the map's figures are tables under it), so the pages work without JavaScript and offline; the map
(static/stats/map.js) draws ``map.json`` on top.

Scope: the area is looked up in ``visible_jurisdictions`` (404 outside). The figures of a visible area are
the user's visible cases there: a jurisdiction grant sees every case that happened in or is owned by its
subtree, which is the statistics' area rule (docs/statistics.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import Workplace, acting_user, require_workplace, visible_units
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.jurisdictions.queries import visible_ancestors
from civicgrid.lib import clock
from civicgrid.overview.queries import overview_node, overview_roots
from civicgrid.stats import charts, export, geo
from civicgrid.stats.definitions import COUNTER, RATES
from civicgrid.stats.figures import Period, month_end
from civicgrid.stats.links import Links
from civicgrid.stats.models import StatsState
from civicgrid.stats.report import Report, Slice, build_report, resolve_slice, sentences

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
HEADLINE = ("received", "due", "closed", "closed_on_time", "overdue_open", "closed_in_period")


class PeriodForm(forms.Form):
    """``p``: 2026-10 (a month), 2026-Q3 (a quarter) or 2026 (a year); or ``from`` and ``to`` days."""

    p = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=10)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def period(self, today: date) -> Period:
        data = self.cleaned_data
        if data.get("start") or data.get("end"):
            return Period(data.get("start") or data["end"], data.get("end") or today)
        return parse_period(data.get("p") or "", today)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The last day comes before the first."))
        text = (data.get("p") or "").strip()
        if text and not (_MONTH.match(text) or _QUARTER.match(text) or _YEAR.match(text)):
            self.add_error("p", _("Give a month (2026-10), a quarter (2026-Q3) or a year (2026)."))
        elif (m := _MONTH.match(text)) and not 1 <= int(m.group(2)) <= 12:
            self.add_error("p", _("There is no month %(m)s.") % {"m": m.group(2)})
        return data


def parse_period(text: str, today: date) -> Period:
    """A month, quarter or year as written in the address; empty: the current month."""
    if m := _MONTH.match(text):
        return Period.month(int(m.group(1)), int(m.group(2)))
    if m := _QUARTER.match(text):
        return Period.quarter(int(m.group(1)), int(m.group(2)))
    if m := _YEAR.match(text):
        return Period.year(int(m.group(1)))
    return Period(today.replace(day=1), month_end(today))


def period_code(period: Period) -> str:
    months = period.months
    if months == 1:
        return f"{period.first:%Y-%m}"
    if months == 3 and period.first.month % 3 == 1:
        return f"{period.first.year}-Q{(period.first.month + 2) // 3}"
    if months == 12 and period.first.month == 1:
        return str(period.first.year)
    return ""


def _period_query(period: Period) -> str:
    """The period as the pages' links carry it."""
    code = period_code(period)
    return f"p={code}" if code else f"start={period.first.isoformat()}&end={period.last.isoformat()}"


def _narrow_query(narrowed: Slice | None) -> str:
    return urlencode({"dim": narrowed.dim.value, "key": narrowed.code}) if narrowed else ""


@dataclass(frozen=True)
class Page:
    node: Jurisdiction
    period: Period
    today: date
    report: Report
    links: Links
    linkable_units: set[str]

    @property
    def narrow(self) -> tuple[str, str] | None:
        n = self.report.narrowed
        return (n.dim.value, n.code) if n else None


def _page(request: HttpRequest) -> tuple[Page | None, dict[str, object], int]:
    user = acting_user(request)
    today = timezone.localtime(clock.now()).date()
    roots = overview_roots(user)
    node = overview_node(user, request.GET.get("j"), roots)
    form = PeriodForm(request.GET or None, initial={"p": f"{today:%Y-%m}"})
    status = 200
    if form.is_bound and not form.is_valid():
        status = 422
        period = parse_period("", today)
    else:
        period = form.period(today) if form.is_bound else parse_period("", today)
    # Narrowed to one key of a breakdown (?dim=category&key=01: a class, a lead unit, a grid cell, a channel
    # or a nature), by the codes the case list takes; a key that names nothing is a 422, the area shown whole.
    dim, code = request.GET.get("dim", ""), request.GET.get("key", "")
    narrowed = resolve_slice(dim, code) if dim or code else None
    narrow_error = ""
    if (dim or code) and narrowed is None:
        status = 422
        narrow_error = _("There is nothing called “%(key)s” to narrow the figures to.") % {"key": code or dim}
    context: dict[str, object] = {
        "roots": roots,
        "form": form,
        "period": period,
        "today": today,
        "narrow_error": narrow_error,
    }
    if node is None:
        return None, context, status
    report = build_report(node, period, today, narrowed)
    narrow = (narrowed.dim.value, narrowed.code) if narrowed else None
    page = Page(node, period, today, report, Links(node, period, narrow), _linkable_units(user, report))
    state = StatsState.objects.filter(pk=1).first()
    plain_query = _period_query(period)
    context.update(
        node=node,
        breadcrumbs=visible_ancestors(user, node),
        report=report,
        page=page,
        narrowed=narrowed,
        period_code=period_code(period),
        # Links to other areas and to the report keep the narrowing; plain_query drops it.
        period_query="&".join(q for q in (plain_query, _narrow_query(narrowed)) if q),
        plain_query=plain_query,
        as_of=state.refreshed_at if state else None,
        headline=[_figure(page, code) for code in HEADLINE],
        rates=[_rate(page, r.code) for r in RATES],
        chart=charts.monthly_bars(report.series),
        tables=_tables(page),
    )
    return page, context, status


def _linkable_units(user: User, report: Report) -> set[str]:
    codes = [r.code for r in report.units if r.code]
    return set(visible_units(user).filter(code__in=codes).values_list("code", flat=True))


def _figure(page: Page, code: str) -> dict[str, object]:
    r = page.report
    return {
        "code": code,
        "label": COUNTER[code].label,
        "help": COUNTER[code].help,
        "value": r.counts[code],
        "url": page.links.counter(code),
        "yoy": r.change(code),
        "mom": r.change(code, "previous"),
    }


def _rate(page: Page, code: str) -> dict[str, object]:
    r = page.report
    ratio = r.rate(code)
    rate = next(x for x in RATES if x.code == code)
    return {
        "code": code,
        "label": rate.label,
        "ratio": ratio,
        "numerator": " + ".join(str(COUNTER[c].label) for c in rate.numerator),
        "denominator": COUNTER[rate.denominator].label,
        "numerator_url": page.links.counter(rate.numerator[0]) if len(rate.numerator) == 1 else None,
        "denominator_url": page.links.counter(rate.denominator),
        "yoy": r.rate_change(code),
        "mom": r.rate_change(code, "previous"),
    }


def _tables(page: Page) -> list[dict[str, object]]:
    r = page.report

    def rows(items: list, dim: str | None, limit: int | None = None) -> list[dict[str, object]]:  # type: ignore[type-arg]
        out = []
        # The table is also a bar chart: each row's share of the largest count in it (the numbers stay).
        largest = max((row.counts["received"] for row in items[:limit]), default=0) or 1
        for row in items[:limit]:
            can_link = bool(row.code) and (dim != "unit" or row.code in page.linkable_units)
            link = None
            if can_link and dim is None:
                link = Links(Jurisdiction.objects.get(code=row.code), page.period, page.narrow)
            out.append(
                {
                    "row": row,
                    "bar": round(100 * row.counts["received"] / largest, 1),
                    # The whole page narrowed to this row's key (not for areas: they have pages of their own).
                    "narrow_url": f"?j={page.node.code}&{_period_query(page.period)}&"
                    + urlencode({"dim": dim, "key": row.code})
                    if dim and row.code
                    else None,
                    "received_url": (
                        link.counter("received")
                        if link
                        else page.links.within("received", dim, row.code)
                        if can_link and dim
                        else None
                    ),
                    "close_rate": row.rate("close_rate"),
                    "on_time_rate": row.rate("on_time_close_rate"),
                    "satisfaction_rate": row.rate("satisfaction_rate"),
                }
            )
        return out

    children: dict[str, object] = {
        "id": "children",
        "title": _("Areas below"),
        "rows": rows(r.children, None),
    }
    if r.narrowed is not None:
        # The other breakdowns would need a second key (the rollups keep one); a class has its sub-classes.
        subclasses: dict[str, object] = {
            "id": "categories",
            "title": _("Classes of request"),
            "rows": rows(r.categories, "category"),
        }
        return [children, subclasses] if r.categories else [children]
    return [
        children,
        {"id": "categories", "title": _("Classes of request"), "rows": rows(r.categories, "category")},
        {"id": "units", "title": _("Lead units (top 15)"), "rows": rows(r.units, "unit", 15)},
        {"id": "channels", "title": _("Channels"), "rows": rows(r.channels, "channel")},
        {"id": "natures", "title": _("Natures"), "rows": rows(r.natures, "nature")},
    ]


def _map_context(request: HttpRequest, page: Page) -> dict[str, object]:
    """The map section: the figure chosen (``fig``) and, as the map's text alternative, the top grid cells
    of every figure (the chosen one shown; the script switches between them)."""
    figure = geo.figure_of(request.GET.get("fig"))
    cells = geo.area_cells(acting_user(request), page.node, page.period, page.today)
    return {
        "map_figures": geo.FIGURES,
        "map_figure": figure,
        "map_tables": geo.top_tables(cells, page.links, figure),
        "map_cells": len(cells),
        "map_top": geo.TOP,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }


@require_workplace(Workplace.OVERVIEW)
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    page, context, status = _page(request)
    if page is not None and page.report.narrowed is None:  # the map is of the whole area
        context.update(_map_context(request, page))
    return render(request, "stats/dashboard.html", context, status=status)


@require_workplace(Workplace.OVERVIEW)
@require_safe
@gzip_page  # mostly coordinates: a city's cells shrink about fourfold (nothing secret to guess at here)
def map_data(request: HttpRequest) -> JsonResponse:
    """The map's data (stats.geo.map_data): the area's cells with their figures, classes and simplified
    shapes, and the heat squares of the period's requests; the same area and period rules as the page."""
    user = acting_user(request)
    today = timezone.localtime(clock.now()).date()
    code = request.GET.get("j")
    node = overview_node(user, code, [] if code else overview_roots(user))
    form = PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        errors = [
            {"field": None if field == "__all__" else field, "reason": str(message)}
            for field, messages in form.errors.items()
            for message in messages
        ]
        return JsonResponse({"errors": errors, "code": "invalid"}, status=422)
    period = form.period(today) if form.is_bound else parse_period("", today)
    data = geo.map_data(user, node, period, today) if node is not None else geo.empty()
    # Names are Chinese: sent as UTF-8, half the bytes of \u escapes; no spaces between the numbers.
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


@require_workplace(Workplace.OVERVIEW)
@require_safe
def report(request: HttpRequest) -> HttpResponse:
    page, context, status = _page(request)
    if page is not None:
        context["sentences"] = sentences(page.report)
    return render(request, "stats/report.html", context, status=status)


@require_workplace(Workplace.OVERVIEW)
@require_safe
def report_xlsx(request: HttpRequest) -> HttpResponse:
    page, context, status = _page(request)
    if page is None or status != 200:
        return render(request, "stats/report.html", context, status=status if status != 200 else 404)
    body = export.report_workbook(page.report, sentences(page.report))
    narrowed = page.report.narrowed
    part = f"-{narrowed.dim.value}-{narrowed.code}" if narrowed else ""
    name = f"report-{page.node.code}{part}-{period_code(page.period) or page.period.first.isoformat()}.xlsx"
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
