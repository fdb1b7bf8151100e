"""Routes of the hot topic pages (under /triage/hot/)."""

from django.urls import path

from civicgrid.triage.views import hot

urlpatterns = [
    path("<int:pk>/", hot.topic, name="hot_topic"),
]
