"""Routes of this role screen, each checked per persona by tests/hotline/test_permissions.py."""

COVERED = {
    "hotline/",
    "hotline/caller/",
    "hotline/knowledge/",
    "hotline/knowledge/<int:pk>/",
    "hotline/calls/<str:number>/",
}
