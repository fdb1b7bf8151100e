"""The plain Django list bench/open311.py measures beside Open311's GET requests: the same rows (the same
WHERE, ORDER BY and LIMIT as the default query) fetched with one ``values()`` query and returned by
``JsonResponse`` — no handling clocks, no Open311 formatting, no parameter checks. What Django, the ORM and
JSON cost for these rows; the difference to the Open311 answer is the Open311 layer."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.urls import path

from civicgrid.cases.models import Case, Nature
from civicgrid.lib import clock
from civicgrid.open311.models import Endpoint
from civicgrid.urls import urlpatterns as civicgrid_urlpatterns

FIELDS = (
    "number",
    "status",
    "reply",
    "category__code",
    "category__name",
    "description",
    "lead_unit__name",
    "received_at",
    "updated_at",
    "address",
    "lat",
    "lon",
    "open311__address_id",
    "open311__zipcode",
    "open311__media_url",
)


def plain_requests(request: HttpRequest) -> JsonResponse:
    endpoint = Endpoint.objects.select_related("jurisdiction").get(code=request.GET["jurisdiction_id"])
    size = int(request.GET.get("page_size", "1000"))
    end = clock.now()
    rows = (
        Case.objects.filter(
            Q(origin_path__startswith=endpoint.jurisdiction.path),
            Q(category__isnull=False) & ~Q(nature=Nature.REPORT),
            received_at__gte=end - timedelta(days=90),
            received_at__lte=end,
        )
        .order_by("-received_at", "-id")
        .values(*FIELDS)[:size]
    )
    return JsonResponse(list(rows), safe=False, json_dumps_params={"ensure_ascii": False})


urlpatterns = [path("bench/plain-requests.json", plain_requests), *civicgrid_urlpatterns]
