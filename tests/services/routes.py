"""Routes of this role screen, each checked per persona by tests/services/test_permissions.py."""

COVERED = {"window/"}
