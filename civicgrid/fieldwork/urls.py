from django.urls import path

from civicgrid.fieldwork import views

app_name = "fieldwork"
urlpatterns = [path("", views.home, name="home")]
