"""What of the assessments a user may see: the schemes whose jurisdiction lies in their visible tree."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_jurisdictions

from .models import AssessmentScheme


def visible_schemes(user: User) -> QuerySet[AssessmentScheme]:
    """A scheme shows the figures of every subject inside its jurisdiction, so it is visible exactly to
    those who see that jurisdiction (a street's leader does not see the district's ranking of streets)."""
    return AssessmentScheme.objects.filter(jurisdiction__in=visible_jurisdictions(user).values("pk"))
