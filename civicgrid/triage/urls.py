"""/triage/: the smart-routing pages; each part keeps its own routes."""

from django.urls import include, path

app_name = "triage"

urlpatterns = [
    path("", include("civicgrid.triage.views.model_urls")),
    path("hot/", include("civicgrid.triage.views.hot_urls")),
    path("duplicates/", include("civicgrid.triage.views.duplicate_urls")),
]
