"""django-helpdesk's URLs at the root: its REST API is then at /api/tickets/."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls"))]
