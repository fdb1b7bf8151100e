"""Routes of the model page and the intake suggestions."""

from django.urls import path

from civicgrid.triage.views import models

urlpatterns = [
    path("", models.home, name="home"),
    path("suggest/", models.suggest, name="suggest"),
]
