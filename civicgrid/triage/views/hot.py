"""The hot topic page: a topic's figures and its member cases the user may see (the leaders' workplace).

The list of topics is on the leaders' overview (civicgrid.overview); reading goes through
civicgrid.triage.hot_queries, which counts only the cases in ``visible_cases(user)``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from civicgrid.accounts.permissions import Workplace, acting_user, require_workplace
from civicgrid.triage import hot_queries


@require_workplace(Workplace.OVERVIEW)
@require_safe
def topic(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    shown = hot_queries.topic_for(user, pk)
    current = hot_queries.current_run()
    context = {
        "t": shown,
        "run": shown.topic.run,
        "is_current": current is not None and current.pk == shown.topic.run_id,
    }
    return render(request, "triage/hot_topic.html", context)
