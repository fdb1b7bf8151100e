"""Drill-down: the case-list link of every figure, asking for exactly the cases it counted.

Cohort counters: the area, the receipt days and ``counted=<counter>`` (the cases whose fact row has it);
``received`` needs no counter. Flow counters (closed in the period): the area and the closing days.
A breakdown row adds its key (category code, unit code, grid code, channel, nature). Figures that no
case list can show (sums of minutes, a unit outside the user's reach) get no link (None).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.stats.definitions import COUNTER, Axis, Dim
from civicgrid.stats.figures import Period

Param = tuple[str, str]

# How the case list names each breakdown's filter (it takes codes of categories, units and grid cells).
PARAM = {
    Dim.CATEGORY: "category",
    Dim.UNIT: "unit",
    Dim.GRID: "grid",
    Dim.CHANNEL: "channel",
    Dim.NATURE: "nature",
}


class Links:
    """``narrow``: the (dimension, code) a page is narrowed to; every link then carries it too."""

    def __init__(self, node: Jurisdiction, period: Period, narrow: tuple[str, str] | None = None) -> None:
        self.node = node
        self.period = period
        self.base = reverse("cases:queues")
        self.narrow: list[Param] = [(PARAM[Dim(narrow[0])], narrow[1])] if narrow else []

    def counter(self, code: str, *extra: Param) -> str | None:
        counter = COUNTER[code]
        params: list[Param] = [("jurisdiction", self.node.code)]
        if counter.axis is Axis.RECEIVED:
            params += [
                ("received_from", self.period.first.isoformat()),
                ("received_to", self.period.last.isoformat()),
            ]
            if code == "returns":
                return None  # a count of returns, not of cases: "returned" is the list
            if code != "received":
                params.append(("counted", code))
        else:
            if code == "closed_in_period_on_time":
                params.append(("counted", "closed_on_time"))
            elif code != "closed_in_period":
                return None  # handling times: sums and cases the list has no filter for
            params += [
                ("closed_from", self.period.first.isoformat()),
                ("closed_to", self.period.last.isoformat()),
            ]
        return f"{self.base}?{urlencode([*params, *self.narrow, *extra])}"

    def within(self, code: str, dim: str, key: str) -> str | None:
        """The link of a counter narrowed to one breakdown key, given as the case list takes it (codes of
        categories, units and grid cells; channel and nature values)."""
        return self.counter(code, (PARAM[Dim(dim)], key))
