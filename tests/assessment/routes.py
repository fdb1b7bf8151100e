"""Routes of the assessment pages, each checked per persona by tests/assessment/test_pages.py."""

COVERED = {
    "assessment/",
    "assessment/<slug:code>/",
    "assessment/<slug:code>/publish/",
    "assessment/<slug:code>/ranking.xlsx",
}
