"""Routes of this role screen, each checked per persona by tests/fieldwork/test_permissions.py."""

COVERED = {
    "field/",
    "field/report/",
    "field/report/<str:number>/",
    "field/tasks/",
    "field/tasks/<str:number>/",
    "field/tasks/<str:number>/verify/",
    "field/tasks/<str:number>/revisit/",
    "field/visits/",
    "field/visits/new/",
}
