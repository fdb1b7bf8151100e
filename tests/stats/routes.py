"""Routes of the statistics pages, each checked per persona by tests/stats/test_pages.py."""

COVERED = {"stats/", "stats/report/", "stats/report.xlsx", "stats/map.json"}
