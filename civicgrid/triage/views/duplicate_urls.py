"""Routes of the duplicate panel at intake (not built yet: docs/triage.md, Duplicates)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
