"""Routes of this role screen, each checked per persona by tests/fieldwork/test_permissions.py."""

COVERED = {"field/"}
