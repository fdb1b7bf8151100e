"""Routes of the staff case pages, each checked per persona by tests/cases_ui/test_permissions.py."""

COVERED = {
    "cases/",
    "cases/filters/",
    "cases/filters/<int:pk>/delete/",
    "cases/bulk-dispatch/",
    "cases/export.csv",
    "cases/export.xlsx",
    "cases/<str:number>/",
    "cases/<str:number>/act/<str:action>/",
    "cases/<str:number>/phone/",
    "cases/<str:number>/reopen-requests/<int:pk>/",
    "cases/<str:number>/photos/<int:pk>/",
}
