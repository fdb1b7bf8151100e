"""The demo's assessments on a slice of the demo history: the three schemes a district would set up, last
month's published ranking of the departments, every unit's count equal to its case list, and a second run
that adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.assessment.models import AssessmentResult, AssessmentScheme, SchemeEvent
from civicgrid.assessment.ranking import build_ranking, last_closed_period, published_ranking
from civicgrid.cases.api import filter_cases
from civicgrid.cases.api_schemas import CaseFilters
from civicgrid.demo.context import DemoContext
from civicgrid.lib import clock
from tests.demo_slice import demo_slice

SLICE = 150


def _assessments(ctx: DemoContext) -> None:
    import_module("civicgrid.assessment.demo").load(ctx)


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[DemoContext]:
    with demo_slice(django_db_blocker, SLICE, then=_assessments) as ctx:
        yield ctx


def test_the_demo_has_three_schemes_and_a_published_ranking(demo: DemoContext, db: None) -> None:
    codes = set(AssessmentScheme.objects.values_list("code", flat=True))
    assert codes == {"430103-departments", "430103-streets", "430103002-grids"}
    departments = AssessmentScheme.objects.get(code="430103-departments")
    assert sorted(
        (rate, int(weight)) for rate, weight in departments.indicators.values_list("rate", "weight")
    ) == [
        ("resolution_rate", 35),
        ("response_rate", 30),
        ("satisfaction_rate", 35),
    ]
    result = AssessmentResult.objects.get(scheme=departments)
    today = timezone.localtime(clock.now()).date()
    assert result.period_first == last_closed_period("month", today).first
    published = published_ranking(result)
    live = build_ranking(departments, published.period, today)
    assert [(e.code, e.score, e.standing) for e in published.entries] == [
        (e.code, e.score, e.standing) for e in live.entries
    ]
    # Only the departments (not the community committees or the street offices) are assessed.
    assert published.entries
    assert all(
        e.code.split("-")[-1] in {"cg", "zj", "mz", "rs", "wj", "sj", "sf", "police"}
        for e in published.entries
    )


def test_every_count_is_the_case_lists(demo: DemoContext, db: None) -> None:
    leader = User.objects.get(username="tx_leader")
    today = timezone.localtime(clock.now()).date()
    for code in ("430103-departments", "430103-streets", "430103002-grids"):
        scheme = AssessmentScheme.objects.get(code=code)
        period = last_closed_period(scheme.period, today)
        ranking = build_ranking(scheme, period, today)
        for e in ranking.entries:
            extra: dict[str, Any] = {"jurisdiction": e.code}
            if scheme.subject != "area":  # the scheme area's cases of this unit / in this cell
                extra = {"jurisdiction": scheme.jurisdiction.code, str(scheme.subject): e.code}
            filters = CaseFilters(received_from=period.first, received_to=period.last, counted="due", **extra)
            assert filter_cases(leader, filters).count() == e.counts["due"], (code, e.code)


def test_a_second_run_adds_nothing(demo: DemoContext, db: None) -> None:
    before = (AssessmentScheme.objects.count(), AssessmentResult.objects.count(), SchemeEvent.objects.count())
    import_module("civicgrid.assessment.demo").load(demo)
    after = (AssessmentScheme.objects.count(), AssessmentResult.objects.count(), SchemeEvent.objects.count())
    assert after == before
