"""The journal of changed cases: which cases changed since the statistics last looked (civicgrid.stats)."""

from __future__ import annotations

from django.db import models

from civicgrid.cases.models.case import Case


class CaseChange(models.Model):
    """A case changed and the statistics have not caught up with it yet.

    Written in the same transaction as the change (one row per case, the latest version), so no change is
    missed and none is counted before it commits; the statistics worker folds it in and deletes the row
    only if the version it read is still the latest (``civicgrid.stats.refresh``). A queue table rather than
    a scan of the event log by id: ids are drawn before commit, so a log read by id would skip
    transactions that commit late."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.PositiveIntegerField()

    class Meta:
        verbose_name = "case change"

    def __str__(self) -> str:
        return f"{self.case_id}@{self.version}"
