"""Routes of the smart-routing pages, each checked per persona by the tests of tests/triage/."""

COVERED: set[str] = set()
COVERED |= {"triage/hot/<int:pk>/"}  # tests/triage/test_hot_pages.py
COVERED |= {"triage/", "triage/suggest/"}  # tests/triage/test_model_pages.py
COVERED |= {"triage/duplicates/"}  # tests/triage/test_duplicate_pages.py
