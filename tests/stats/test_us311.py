"""The statistics of 16,984 real requests equal a count made with pandas from the CSV itself.

The us311 file is imported the way an operator would (civicgrid.open311.importing, as
tests/open311/test_import.py does), each city under an endpoint of its own, and the figures are rebuilt. The
expected figures come from tests/stats/us311_independent.py, which reads the file with pandas and writes the
refusal rule, the handling deadline, the Chinese working calendar and the working minutes again without any
civicgrid code. Compared per city and for the whole file (长沙市 holds all three), per month of receipt
(received, due, closed, closed on time, closed late, open and late) and per month of closing (closed in
the month, of them on time, handling times and their working minutes), then the totals, the closing and
on-time rates, and the average and median handling time.

The import and the rebuild (about 30 s together) run once for the module, in the outer transaction of
``shared_world``; the tests only read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.conf import settings
from django.utils import translation

from civicgrid.jurisdictions.models import Jurisdiction, UnitType
from civicgrid.lib import clock
from civicgrid.open311.actions import do_save_endpoint
from civicgrid.open311.importing import ImportReport, ImportRow, do_import_requests, read_requests
from civicgrid.open311.models import Endpoint
from civicgrid.stats.figures import Counts, Period, durations, monthly_series, rate, totals
from civicgrid.stats.refresh import do_rebuild
from tests.stats import us311_independent as independent
from tests.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
US311 = settings.SHARED_DATA_DIR / "us311" / "combined_open311_style_16984.csv"
US311_ROWS = 16984
REFUSED = 55  # San Francisco requests closed before they were requested
# Each city under its own endpoint, at a place of its own: neither node holds the other cities' cases (a
# case counts where it happened and at the desk that owns it — 天心区 for the first two, 雨花区 for the last).
CITIES = {"Baltimore": "430103002", "San Francisco": "430103004", "New York": "430111"}
WHOLE = "the whole file"
SCOPES = [*CITIES, WHOLE]
SCOPE_NODES = {**CITIES, WHOLE: "430100"}  # 长沙市: all three cities
COUNTED = tuple(c for c in (*independent.COHORT, *independent.FLOW) if c != "handling_minutes")


def default_handling_limit() -> tuple[int, str]:
    """The handling limit every imported case gets, as plain numbers: the one exception to the rule that the
    expected side uses no civicgrid code. Imported cases have the endpoint's default nature (求助 "help"),
    the default handling class (承诺件) and urgency (normal), and categories made by the import with no
    limits of their own, so of the default TimeLimit rows (the migration that seeds them) the one for any
    nature, class and urgency applies."""
    limits = importlib.import_module("civicgrid.cases.migrations.0002_default_limits").LIMITS
    (value, unit), *others = [
        (value, unit)
        for stage, nature, handling_class, urgency, value, unit, _label in limits
        if stage == "handle" and not (nature or handling_class or urgency)
    ]
    assert not others
    return int(value), str(unit)


@dataclass(frozen=True)
class Expected:
    file: pd.DataFrame  # every row of the file
    rows: pd.DataFrame  # the rows that import, assessed
    period: Period  # every month with a receipt or a closing

    def of(self, scope: str) -> pd.DataFrame:
        return self.rows if scope == WHOLE else self.rows.loc[self.rows["city"] == scope]


@dataclass(frozen=True)
class Imported:
    reports: dict[str, ImportReport]
    nodes: dict[str, Jurisdiction]
    today: date


@pytest.fixture(scope="module")
def expected() -> Expected:
    file = independent.read(US311)
    limit, unit = default_handling_limit()
    rows = independent.assess(file, limit=limit, unit=unit, now=datetime.now(SHANGHAI))
    first = rows["received_month"].min()
    last = max(rows["received_month"].max(), rows["closed_month"].max())
    last_day = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
    return Expected(file=file, rows=rows, period=Period(first, last_day))


@pytest.fixture(scope="module")
def imported(shared_world: World) -> Imported:
    requests = list(read_requests(US311))
    assert len(requests) == US311_ROWS
    assert all(isinstance(r, ImportRow) for r in requests)  # every record parses: no RowError to share out
    reports = {}
    # Module fixtures run before the function-scoped ``english_messages``: the reasons in English here too.
    with translation.override("en"):
        for city, code in CITIES.items():
            endpoint = do_save_endpoint(
                Endpoint(code=code, jurisdiction=shared_world.j(code), name=f"{city} 311"), actor=None
            )
            reports[city] = do_import_requests(
                (r for r in requests if isinstance(r, ImportRow) and r.extra.get("city") == city),
                endpoint=endpoint,
                source=f"us311 {city}",
                create_missing=True,
                unit_type=UnitType.objects.get(code="cg"),
                timezone=SHANGHAI,
                actor=None,
            )
    do_rebuild(actor=None)
    nodes = {scope: shared_world.j(code) for scope, code in SCOPE_NODES.items()}
    return Imported(reports=reports, nodes=nodes, today=clock.now().astimezone(SHANGHAI).date())


def _differences(ours: dict[date, Counts], theirs: dict[date, Counts], codes: tuple[str, ...]) -> list[str]:
    out = []
    for month in sorted(set(ours) | set(theirs)):
        for code in codes:
            a, b = ours.get(month, {}).get(code, 0), theirs.get(month, {}).get(code, 0)
            if a != b:
                out.append(f"{month:%Y-%m} {code}: ours {a}, pandas {b}")
    return out


def test_the_import_refuses_exactly_the_requests_closed_before_they_were_requested(
    db: None, imported: Imported, expected: Expected
) -> None:
    file = expected.file
    refused = file.loc[file["refused"]]
    assert len(file) == US311_ROWS
    assert len(refused) == REFUSED
    assert refused["city"].value_counts().to_dict() == {"San Francisco": REFUSED}
    for city, report in imported.reports.items():
        theirs = file.loc[file["city"] == city]
        assert {record for record, _ in report.failed} == set(theirs.loc[theirs["refused"], "record"]), city
        assert all("before it was requested" in reason for _, reason in report.failed)
        assert (report.created, report.skipped_existing) == (int((~theirs["refused"]).sum()), 0), city
    assert sum(r.created for r in imported.reports.values()) == US311_ROWS - REFUSED


@pytest.mark.parametrize("scope", SCOPES)
def test_monthly_counts_match_pandas(db: None, imported: Imported, expected: Expected, scope: str) -> None:
    period = expected.period
    ours = monthly_series(imported.nodes[scope], period)
    theirs = independent.monthly(expected.of(scope), independent.months(period.first, period.last))
    assert list(ours) == list(theirs)
    differences = _differences(ours, theirs, COUNTED)
    assert not differences, f"{len(differences)} differences: " + "; ".join(differences[:20])


@pytest.mark.parametrize("scope", SCOPES)
def test_totals_and_rates_match_pandas(db: None, imported: Imported, expected: Expected, scope: str) -> None:
    ours = totals(imported.nodes[scope], expected.period, imported.today)
    theirs = independent.totals(expected.of(scope))
    assert {c: ours[c] for c in COUNTED} == {c: theirs[c] for c in COUNTED}
    for code, numerator in (("close_rate", "closed"), ("on_time_close_rate", "closed_on_time")):
        ratio = rate(ours, code)
        assert (ratio.numerator, ratio.denominator) == (Fraction(theirs[numerator]), theirs["due"]), code


@pytest.mark.parametrize("scope", SCOPES)
def test_handling_minutes_per_month_match_pandas(
    db: None, imported: Imported, expected: Expected, scope: str
) -> None:
    period = expected.period
    ours = monthly_series(imported.nodes[scope], period)
    theirs = independent.monthly(expected.of(scope), independent.months(period.first, period.last))
    differences = _differences(ours, theirs, ("timed", "handling_minutes"))
    assert not differences, f"{len(differences)} differences: " + "; ".join(differences[:20])


@pytest.mark.parametrize("scope", SCOPES)
def test_average_and_median_handling_time_match_pandas(
    db: None, imported: Imported, expected: Expected, scope: str
) -> None:
    rows = expected.of(scope)
    theirs = independent.totals(rows)
    ours = durations(imported.nodes[scope], expected.period, imported.today)
    assert ours.cases == theirs["timed"]
    assert ours.median_hours == independent.median_hours(rows)
    assert ours.average_hours == Fraction(theirs["handling_minutes"], theirs["timed"] * 60)
