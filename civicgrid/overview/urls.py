from django.urls import path

from civicgrid.overview import views

app_name = "overview"
urlpatterns = [
    path("", views.home, name="home"),
    path("map.geojson", views.map_data, name="map_data"),
]
