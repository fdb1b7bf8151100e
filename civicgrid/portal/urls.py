"""The resident portal, mounted at the site root (civicgrid/urls.py): /report/… and /track/…"""

from django.urls import path

from civicgrid.portal import views

app_name = "portal"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/similar/", views.similar, name="similar"),
    path("report/thanks/", views.thanks, name="thanks"),
    path("report/support/<str:number>/", views.support, name="support"),
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:secret>/", views.track, name="track"),
    path("track/<str:secret>/receipt/", views.receipt, name="receipt"),
    path("track/<str:secret>/rate/", views.rate, name="rate"),
    path("track/<str:secret>/reopen/", views.reopen, name="reopen"),
]
