"""Routes of the staff case pages, each checked per persona by tests/cases_ui/test_permissions.py."""

COVERED = {"cases/"}
