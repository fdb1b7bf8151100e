"""Routes of this role screen, each checked per persona by tests/services/test_permissions.py."""

COVERED = {
    "window/",
    "window/visits/",
    "window/visits/<str:number>/",
    "window/visits/<str:number>/start/",
    "window/visits/<str:number>/complete/",
    "window/visits/<str:number>/collect/",
    "window/visits/<str:number>/notice/",
    "window/visits/<str:number>/receipt/",
}
