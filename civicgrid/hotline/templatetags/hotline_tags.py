"""Template helpers of the hotline screen."""

from __future__ import annotations

from django import template

from civicgrid.cases.workflow import GROUP_OF, Group

register = template.Library()

_BADGE = {Group.OPEN: "info", Group.DONE: "ok", Group.DROPPED: ""}


@register.filter
def status_badge(status: str) -> str:
    """The badge class (site.css) of a case status: open cases blue, done green, dropped grey."""
    group = GROUP_OF.get(status)
    return _BADGE[group] if group is not None else ""
