"""The statistics' storage: one fact row per case, and rollups of the facts by day and by month.

- ``CaseFact``: what a case counts for (its counters as 0/1 flags or numbers, the days and the keys it is
  counted under), computed from the case tables by ``facts.py``. The worker keeps it in step with the
  case journal (``cases.CaseChange``) and applies the difference between the old and the new fact to the
  rollups, so the rollups always equal a recount of the facts (proven by tests/stats/test_rollup.py).
- ``DailyFigures``: the counters per day and *area node*. A case is counted in every node above (and at)
  the place where it happened and every node above (and at) the desk that owns it now — the case list's
  ``jurisdiction`` rule — so a subtree's figures are one node's rows, never a scan of its cases.
- ``MonthlyFigures``: the counters per month, node and one breakdown (category, channel, nature, lead
  unit, grid cell) — the breakdowns, league tables and reports of whole months.
- ``MonthlyDuration``: how many cases closed in the month took each whole number of working hours, per
  node: the exact median of whole working hours for any run of whole months.
"""

from __future__ import annotations

from django.db import models

from civicgrid.stats.definitions import COUNTERS, Axis


def _counter_fields() -> dict[str, models.Field]:  # type: ignore[type-arg]
    return {
        c.code: (models.BigIntegerField if c.code == "handling_minutes" else models.IntegerField)(default=0)
        for c in COUNTERS
    }


class Counters(models.Model):
    """The counter columns, shared by the rollups (added below from definitions.COUNTERS)."""

    class Meta:
        abstract = True


for _name, _field in _counter_fields().items():
    Counters.add_to_class(_name, _field)


class CaseFact(models.Model):
    """A case as the statistics count it. Flags are 0 or 1 so that sums are counts."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.PositiveIntegerField()  # the case version this was computed from
    received_day = models.DateField()
    received_month = models.DateField()  # the first of the month: the monthly rollups' key
    closed_day = models.DateField(null=True, blank=True)
    closed_month = models.DateField(null=True, blank=True)
    # Keys: plain integer columns, not foreign keys — a fact is derived data and must never block a
    # change to the catalogue; a rebuild recomputes them.
    origin_id = models.IntegerField()
    owner_id = models.IntegerField()  # the level jurisdiction (the desk that owns the case now)
    grid_cell_id = models.IntegerField(null=True)
    lead_unit_id = models.IntegerField(null=True)
    category_id = models.IntegerField(null=True)
    channel = models.CharField(max_length=16)
    nature = models.CharField(max_length=16)
    handling_minutes = models.IntegerField(null=True)  # working minutes, receipt → closing; null: not timed

    class Meta:
        indexes = [
            models.Index(fields=["received_day"], name="casefact_received_idx"),
            models.Index(
                fields=["closed_day"],
                name="casefact_closed_idx",
                condition=models.Q(closed_day__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"fact {self.case_id}@{self.version}"


for _c in COUNTERS:
    if _c.axis is Axis.RECEIVED:
        CaseFact.add_to_class(_c.code, models.SmallIntegerField(default=0))


class DailyFigures(Counters):
    day = models.DateField()
    node_id = models.IntegerField()  # a Jurisdiction's id

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node_id", "day"], name="dailyfigures_node_day")]

    def __str__(self) -> str:
        return f"{self.node_id} {self.day}"


class MonthlyFigures(Counters):
    month = models.DateField()  # the first day of the month
    node_id = models.IntegerField()
    dim = models.CharField(max_length=8)  # definitions.Dim
    key = models.CharField(max_length=24)  # the id or code of the category, unit, cell, channel or nature

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node_id", "dim", "month", "key"], name="monthlyfigures_key")
        ]

    def __str__(self) -> str:
        return f"{self.node_id} {self.month:%Y-%m} {self.dim}={self.key}"


class MonthlyDuration(models.Model):
    month = models.DateField()
    node_id = models.IntegerField()
    hours = models.IntegerField()  # whole working hours (rounded down)
    cases = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node_id", "month", "hours"], name="monthlyduration_key")
        ]

    def __str__(self) -> str:
        return f"{self.node_id} {self.month:%Y-%m} {self.hours} h: {self.cases}"


class StatsState(models.Model):
    """One row: when the figures were last built and brought up to date, and under which definitions."""

    definitions_version = models.PositiveIntegerField(default=0)  # 0: never built
    built_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"statistics v{self.definitions_version} refreshed {self.refreshed_at}"
