"""Read-side definitions shared by the case list, the API and the overview, so a figure and the list behind
it can never disagree."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from civicgrid.cases.models import Timing
from civicgrid.cases.workflow import Group, in_group


def overdue_q(now: datetime) -> Q:
    """Open cases past a deadline. ``due_at < now`` as well as the stored timing: the deadline sweep may
    not have marked the case yet."""
    return Q(status__in=in_group(Group.OPEN)) & (
        Q(due_at__lt=now) | Q(timing__in=[Timing.OVERDUE, Timing.SERIOUS])
    )
