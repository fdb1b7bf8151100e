from django.urls import path

from civicgrid.services import views

app_name = "services"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/<str:number>/", views.visit_page, name="visit"),
    path("visits/<str:number>/start/", views.start, name="start"),
    path("visits/<str:number>/complete/", views.complete, name="complete"),
    path("visits/<str:number>/collect/", views.collect, name="collect"),
    path("visits/<str:number>/notice/", views.notice, name="notice"),
    path("visits/<str:number>/receipt/", views.receipt, name="receipt"),
]
