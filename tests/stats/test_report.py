"""The periodic report on a slice of the demo history: its numbers are the case list's numbers, its
breakdowns add up, and its sentences say what the figures say.

The demo geography and 150 demo cases are loaded once for the module inside an outer transaction that is
rolled back afterwards (as tests/cases/test_demo_history.py does).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.utils import timezone, translation

from civicgrid.accounts.models import User
from civicgrid.cases.api import filter_cases
from civicgrid.cases.api_schemas import CaseFilters
from civicgrid.cases.workflow import Group, in_group
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib import clock
from civicgrid.stats import figures
from civicgrid.stats.definitions import COUNTER_CODES
from civicgrid.stats.figures import Period
from civicgrid.stats.report import Report, build_report, sentences
from tests.demo_slice import demo_slice

SLICE = 150


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    with demo_slice(django_db_blocker, SLICE):
        yield


def _today() -> date:
    return timezone.localtime(clock.now()).date()


def _busiest_month(node: Jurisdiction) -> Period:
    today = _today()
    year = figures.monthly_series(node, Period(date(today.year - 2, 1, 1), today))
    month = max(year, key=lambda m: (year[m]["received"], m))
    return Period.month(month.year, month.month)


@pytest.fixture
def report(demo: None, db: None) -> Report:
    node = Jurisdiction.objects.get(code="430103")
    return build_report(node, _busiest_month(node), _today())


def _listed(user: User, node: Jurisdiction, period: Period, **extra: Any) -> int:
    filters = CaseFilters(
        jurisdiction=node.code, received_from=period.first, received_to=period.last, **extra
    )
    return filter_cases(user, filters).count()


def test_the_report_has_cases(report: Report) -> None:
    assert report.counts["received"] >= 5


def test_its_numbers_are_the_case_lists(report: Report) -> None:
    leader = User.objects.get(username="tx_leader")
    c, node, period = report.counts, report.node, report.period
    assert c["received"] == _listed(leader, node, period)
    assert c["due"] == _listed(leader, node, period, status=in_group(Group.OPEN, Group.DONE))
    assert c["closed"] == _listed(leader, node, period, group=Group.DONE)
    assert report.open_now == _listed(leader, node, period, group=Group.OPEN)


def test_each_child_area_is_its_case_list(report: Report) -> None:
    leader = User.objects.get(username="tx_leader")
    assert report.children
    for row in report.children:
        child = Jurisdiction.objects.get(code=row.key)
        assert row.counts["received"] == _listed(leader, child, report.period), row.name


def test_the_rollups_equal_the_plain_scan(report: Report) -> None:
    for period in (report.period, report.period.previous(), report.period.year_before()):
        assert figures.totals(report.node, period, report.today) == figures.scan_totals(report.node, period)
    odd = Period(report.period.first.replace(day=3), report.period.last.replace(day=20))
    assert figures.breakdown(report.node, odd, report.today, "channel") == figures.scan_breakdown(
        report.node, odd, "channel"
    )


def test_breakdowns_add_up(report: Report) -> None:
    for rows in (report.channels, report.natures, report.categories):
        assert sum(r.counts["received"] for r in rows) == report.counts["received"]
    # Units: only cases with a lead unit; never more than the total.
    assert sum(r.counts["received"] for r in report.units) <= report.counts["received"]
    assert all(r.name for r in report.units)


def test_the_series_ends_with_the_period(report: Report) -> None:
    months = list(report.series)
    assert len(months) == 13
    assert months[-1] == report.period.first
    assert {c: report.series[report.period.first][c] for c in COUNTER_CODES} == report.counts


def test_the_sentences_say_the_figures(report: Report) -> None:
    with translation.override("en"):
        text = " ".join(sentences(report))
    c = report.counts
    assert f"received {c['received']} requests" in text
    assert f"Of the {c['due']} requests due for closing, {c['closed']} are closed" in text
    close = report.rate("close_rate").percent
    assert close is not None
    assert f"closing rate {close:.1f}%" in text
    top = report.categories[0]
    assert f"{top.name} ({top.counts['received']}," in text
