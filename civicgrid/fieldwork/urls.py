from django.urls import path

from civicgrid.fieldwork import views

app_name = "fieldwork"
urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("report/<str:number>/", views.reported, name="reported"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<str:number>/", views.task, name="task"),
    path("tasks/<str:number>/verify/", views.verify, name="verify"),
    path("tasks/<str:number>/revisit/", views.revisit, name="revisit"),
    path("visits/", views.visits, name="visits"),
    path("visits/new/", views.visit_new, name="visit_new"),
]
