"""Links from the overview's figures to the staff case list (/cases/), whose filters are the JSON API's
``CaseFilters`` (civicgrid.cases.api_schemas): the link of a figure asks the list for exactly the cases the
figure counted (tests/overview/test_links.py checks each one against the API)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

from django.urls import reverse

from civicgrid.cases.workflow import Group, in_group
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.overview.queries import Period

Param = tuple[str, str]


def case_list(*params: Param, base: str | None = None) -> str:
    base = base or reverse("cases:queues")
    return f"{base}?{urlencode(params)}" if params else base


def case_page(number: str, base: str | None = None) -> str:
    """/cases/<number>/; ``base`` is reverse("cases:queues") when the caller links many cases."""
    return f"{base or reverse('cases:queues')}{quote(number)}/"


def area(node: Jurisdiction) -> Param:
    return ("jurisdiction", node.code)


def received_between(first: date, last: date) -> tuple[Param, Param]:
    return ("received_from", first.isoformat()), ("received_to", last.isoformat())


def not_dropped() -> tuple[Param, ...]:
    """The open and done states, one ``status`` parameter each: the list has no "not dropped" group."""
    return tuple(("status", s) for s in in_group(Group.OPEN, Group.DONE))


class Links:
    """The case-list links of one node's figures for one period; extra parameters narrow a figure to a
    unit (``unit=<code>``) or a grid cell (``grid=<code>``)."""

    def __init__(self, node: Jurisdiction, period: Period) -> None:
        self.node = node
        self.period = period
        self.base = reverse("cases:queues")  # once: the page has a hundred links

    def _list(self, *params: Param) -> str:
        return case_list(*params, base=self.base)

    def received_today(self, *extra: Param) -> str:
        return self._list(area(self.node), *received_between(self.period.today, self.period.today), *extra)

    def received_this_month(self, *extra: Param) -> str:
        return self._list(
            area(self.node), *received_between(self.period.month_first, self.period.today), *extra
        )

    def open_now(self, *extra: Param) -> str:
        return self._list(area(self.node), ("group", Group.OPEN.value), *extra)

    def overdue_now(self, *extra: Param) -> str:
        return self._list(area(self.node), ("overdue", "true"), *extra)

    def due_for_closing(self, *extra: Param) -> str:
        return self._list(
            area(self.node),
            *received_between(self.period.month_first, self.period.today),
            *not_dropped(),
            *extra,
        )

    def closed_of_due(self, *extra: Param) -> str:
        return self._list(
            area(self.node),
            *received_between(self.period.month_first, self.period.today),
            ("group", Group.DONE.value),
            *extra,
        )
