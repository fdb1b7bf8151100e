from django.urls import path, re_path

from civicgrid.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^v2/discovery" + FMT, views.discovery, name="discovery-v2"),
    path("v2/", views.not_found, name="root"),
    re_path(r"^v2/services" + FMT, views.services, name="services"),
    re_path(r"^v2/services/(?P<code>[^/]{1,64})" + FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + FMT, views.requests, name="requests"),
    re_path(r"^v2/requests/(?P<number>[^/]{1,64})" + FMT, views.one_request, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/]{1,64})" + FMT, views.token, name="token"),
    re_path(r"^v2/servicerequestupdates" + FMT, views.request_updates, name="updates"),
    # (?s:…): a path with a newline in it (%0A) is unknown too, not Django's HTML 404.
    re_path(r"^(?P<rest>(?s:.*))$", views.not_found, name="not-found"),
]
