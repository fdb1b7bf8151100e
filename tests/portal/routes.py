"""Routes of the resident portal (public, no login), checked by tests/portal/test_permissions.py."""

COVERED: set[str] = {
    "report/",
    "report/similar/",
    "report/thanks/",
    "report/support/<str:number>/",
    "track/",
    "track/<str:secret>/",
    "track/<str:secret>/receipt/",
    "track/<str:secret>/rate/",
    "track/<str:secret>/reopen/",
}
