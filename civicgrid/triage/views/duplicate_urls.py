"""/triage/duplicates/: possible duplicates of a call being taken in (the hotline desk's panel)."""

from django.urls import URLPattern, path

from civicgrid.triage.views.duplicates import duplicates

urlpatterns: list[URLPattern] = [path("", duplicates, name="duplicates")]
