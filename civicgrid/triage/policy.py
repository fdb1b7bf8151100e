"""The smart-routing policy: one row (pk 1), created with its defaults when first read."""

from __future__ import annotations

from civicgrid.triage.models import TriagePolicy


def policy() -> TriagePolicy:
    row, _created = TriagePolicy.objects.get_or_create(pk=1)
    return row
