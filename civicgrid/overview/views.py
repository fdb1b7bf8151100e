"""The leaders' overview: a jurisdiction's figures for today and this month, its most overdue cases, league
tables of units and grid cells, and a map of its open cases. Read-only: nothing here writes.

Everything is in the HTML (figures, tables, links to the case list), so the page works without JavaScript;
the map (overview.js) draws the data of ``map_data`` on top, without a base map when none is configured.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from civicgrid.accounts.permissions import Workplace, acting_user, require_workplace
from civicgrid.jurisdictions.queries import visible_ancestors
from civicgrid.lib import clock
from civicgrid.overview import figures, geo, links
from civicgrid.overview.queries import Period, in_area, overview_node, overview_roots
from civicgrid.triage import hot_queries


@require_workplace(Workplace.OVERVIEW)
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    roots = overview_roots(user)
    node = overview_node(user, request.GET.get("j"), roots)
    if node is None:
        return render(request, "overview/home.html", {"roots": []})
    period = Period.at(clock.now())
    link = links.Links(node, period)
    headline = figures.headline(user, node, period)
    context = {
        "roots": roots,
        "node": node,
        "breadcrumbs": visible_ancestors(user, node),
        "period": period,
        "figures": headline,
        "link": link,
        "leagues": figures.leagues(user, node, period, link, headline.received_month),
        "overdue_cases": figures.most_overdue(user, node, period),
        "children": figures.child_areas(user, node, period),
        # 热点问题: the current run's topics, counting only the node's cases the user may see.
        "hot_run": hot_queries.current_run(),
        "hot_topics": hot_queries.overview_topics(user, in_area(node)),
        "point_limit": geo.POINT_LIMIT,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "overview/home.html", context)


@require_workplace(Workplace.OVERVIEW)
@require_safe
def map_data(request: HttpRequest) -> JsonResponse:
    """GeoJSON of the node's open cases (the newest POINT_LIMIT) with the density squares and the outline."""
    user = acting_user(request)
    code = request.GET.get("j")
    node = overview_node(user, code, [] if code else overview_roots(user))
    data = geo.map_data(user, node, clock.now()) if node is not None else geo.empty()
    # Titles are Chinese: sent as UTF-8, half the bytes of \u escapes.
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
