from django.urls import path

from civicgrid.cases.views import case_page, export, queues

app_name = "cases"
urlpatterns = [
    path("", queues.queues, name="queues"),
    path("filters/", queues.save_filter, name="save_filter"),
    path("filters/<int:pk>/delete/", queues.delete_filter, name="delete_filter"),
    path("bulk-dispatch/", queues.bulk_dispatch, name="bulk_dispatch"),
    path("export.csv", export.export_csv, name="export_csv"),
    path("export.xlsx", export.export_xlsx, name="export_xlsx"),
    path("<str:number>/", case_page.case_page, name="case"),
    path("<str:number>/act/<str:action>/", case_page.act, name="act"),
    path("<str:number>/phone/", case_page.reveal_phone, name="reveal_phone"),
    path("<str:number>/reopen-requests/<int:pk>/", case_page.decide_reopen, name="decide_reopen"),
    path("<str:number>/photos/<int:pk>/", case_page.photo, name="photo"),
]
