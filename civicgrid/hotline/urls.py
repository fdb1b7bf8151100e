from django.urls import path

from civicgrid.hotline import views

app_name = "hotline"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("caller/", views.caller, name="caller"),
    path("knowledge/", views.knowledge, name="knowledge"),
    path("knowledge/<int:pk>/", views.entry, name="entry"),
    path("calls/<str:number>/", views.call, name="call"),
]
