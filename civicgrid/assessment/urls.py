from django.urls import path

from civicgrid.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:code>/", views.scheme_page, name="scheme"),
    path("<slug:code>/publish/", views.publish, name="publish"),
    path("<slug:code>/ranking.xlsx", views.ranking_xlsx, name="xlsx"),
]
