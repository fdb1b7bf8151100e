from django.urls import path

from civicgrid.services import views

app_name = "services"
urlpatterns = [path("", views.desk, name="desk")]
