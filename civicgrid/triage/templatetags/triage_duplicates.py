"""The case page's "possible duplicates" panel (疑似重复): ``{% duplicates_panel obj %}``.

Shown for open cases: the open cases that may be the same request, each linking to its page and — when the
user may merge this case now (its state allows the merge action and ``case_action_allowed``) — with a
"merge into this case" button: a confirm step (a disclosure, so it needs no script and a keyboard opens it)
holding a POST form to the case page's own action endpoint (``cases:act`` … ``merge``) with the master's
number and a default reason, so the merge runs through the lifecycle's ``do_merge`` like the action panel's.
"""

from __future__ import annotations

from typing import Any

from django import template

from civicgrid.accounts.permissions import case_action_allowed
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import GROUPS, TRANSITIONS, Action, Group
from civicgrid.triage.duplicates import duplicates_of

register = template.Library()


@register.inclusion_tag("triage/_duplicates.html", takes_context=True)
def duplicates_panel(context: template.Context, case: Case) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or case.status not in GROUPS[Group.OPEN]:
        return {"show": False}
    can_merge = case.status in TRANSITIONS[Action.MERGE].sources and case_action_allowed(
        user, case, Action.MERGE
    )
    return {
        "show": True,
        "case": case,
        "candidates": duplicates_of(case, user=user),
        "can_merge": can_merge,
        "csrf_token": context.get("csrf_token"),
    }
