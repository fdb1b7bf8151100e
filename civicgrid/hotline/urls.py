from django.urls import path

from civicgrid.hotline import views

app_name = "hotline"
urlpatterns = [path("", views.desk, name="desk")]
