"""Routes of this role screen, each checked per persona by tests/hotline/test_permissions.py."""

COVERED = {"hotline/"}
