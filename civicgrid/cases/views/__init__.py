"""The staff case pages: queues (civicgrid.cases.views.queues) and the case page with its action panel
(civicgrid.cases.views.case_page). They parse, authorize and call the same actions as the JSON API."""
