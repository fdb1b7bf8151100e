"""Routes of this role screen, each checked per persona by tests/overview/test_permissions.py."""

COVERED = {"overview/", "overview/map.geojson"}
