from django.contrib import admin
from django.urls import include, path

from civicgrid.accounts.urls import staff_urlpatterns
from civicgrid.api import api, docs_page, openapi_document

urlpatterns = [
    path("", include("civicgrid.core.urls")),
    path("accounts/", include("civicgrid.accounts.urls")),
    path("staff/", include((staff_urlpatterns, "staff"))),
    path("map/", include("civicgrid.grids.urls")),
    path("cases/", include("civicgrid.cases.urls")),
    path("hotline/", include("civicgrid.hotline.urls")),
    path("window/", include("civicgrid.services.urls")),
    path("field/", include("civicgrid.fieldwork.urls")),
    path("overview/", include("civicgrid.overview.urls")),
    path("stats/", include("civicgrid.stats.urls")),
    path("assessment/", include("civicgrid.assessment.urls")),
    path("triage/", include("civicgrid.triage.urls")),
    # The resident portal (no login): /report/ and /track/<secret>/.
    path("", include("civicgrid.portal.urls")),
    path("api/v1/", api.urls),
    # Open311 GeoReport v2 (and FixMyStreet's servicerequestupdates) for civic apps and city systems.
    path("open311/", include("civicgrid.open311.urls")),
    # The current version's OpenAPI document and its docs page at stable, unversioned addresses.
    path("api/openapi.json", openapi_document, name="api-openapi"),
    path("api/docs", docs_page, name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
