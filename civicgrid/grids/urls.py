from django.urls import path

from civicgrid.grids import views

app_name = "grids"
urlpatterns = [
    path("", views.grid_map, name="map"),
    path("tree/<str:code>/", views.tree_children, name="tree_children"),
]
