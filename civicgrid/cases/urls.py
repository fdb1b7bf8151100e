from django.urls import path

from civicgrid.cases.views import queues

app_name = "cases"
urlpatterns = [path("", queues.queues, name="queues")]
