"""Routes of the resident portal (public, no login), checked by tests/portal/test_permissions.py."""

COVERED: set[str] = set()
