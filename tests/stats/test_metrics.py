"""Each statistic proven on hand-built scenarios, with the expected numbers worked out by hand.

Cases are driven through the real case actions at chosen Asia/Shanghai times (tests/stats/scenarios.py),
the worker's refresh folds them into the figures, and the figures are read through the read API
(civicgrid.stats.figures). Every scenario ends with ``check_paths``: the rollups equal the plain fact scan
for every area node, for whole months and for an odd run of days, and equal a rebuild from scratch.

Working time (civicgrid/lib/workcalendar.py): office hours 08:00–12:00 and 14:00–18:00 on working days; the
2026 calendar of the chinesecalendar package: National Day 1–7 October off, Thursday 8 October a working
day, Saturday 10 October a make-up working day (调休上班). Default limits (cases/migrations/0002): register
and dispatch 2 working hours, accept 1 working day, handle 5 working days, verify 1 working day.

Sections: 1. handling time; 2. periods; 3. counted once; 4. each counter and rate; 5. areas and breakdowns;
6. what writing these tests found in civicgrid/stats, now fixed (latest lead unit, zero rows, unrated answers).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest

from civicgrid.cases.actions import (
    do_accept,
    do_answer_directly,
    do_approve_return,
    do_archive,
    do_assign_down,
    do_decide_extension,
    do_dispatch,
    do_escalate,
    do_merge,
    do_register,
    do_reopen,
    do_reply,
    do_request_extension,
    do_request_return,
    do_revisit,
    do_split,
    do_verify,
    do_void,
    do_withdraw,
)
from civicgrid.cases.models import Case, CaseClock, Category, Stage, Timing
from civicgrid.lib import clock
from civicgrid.lib.workcalendar import DayKind
from civicgrid.stats.definitions import RATE, Dim
from civicgrid.stats.figures import (
    Change,
    Durations,
    Period,
    Ratio,
    breakdown,
    daily_series,
    durations,
    monthly_series,
    rate,
    scan_breakdown,
    totals,
)
from civicgrid.stats.refresh import do_rebuild
from civicgrid.workcalendar.calendar import current_calendar
from tests.cases.helpers import YH_POINT, Catalog, build_catalog, unit
from tests.stats.scenarios import (
    BAJIAOTING,
    CG,
    CITY,
    TIANXIN,
    TODAY,
    YUHUA,
    ZJ,
    at,
    check_paths,
    fact,
    figures,
    handled,
    on,
    only,
    refresh,
    replied_and_verified,
    revisit,
    run_sweep,
    signed_for,
    take_in,
    unreached_revisit,
)
from tests.world import World

MARCH = Period.month(2026, 3)
SEPTEMBER, OCTOBER, NOVEMBER = Period.month(2026, 9), Period.month(2026, 10), Period.month(2026, 11)


@pytest.fixture
def catalog(world: World) -> Catalog:
    """The category catalogue, with the figures built (empty) before the first case: every later change
    reaches them through the journal and the incremental refresh, as on a running installation."""
    built = build_catalog()
    with clock.frozen(at(2025, 1, 1)):
        do_rebuild(actor=None)
    return built


# --- 1. Handling time in working hours ----------------------------------------------------------------


def test_handling_time_friday_afternoon_to_monday_morning_is_four_working_hours(
    world: World, catalog: Catalog
) -> None:
    # Fri 13 March 16:30 → 18:00 = 90 min; the weekend counts nothing; Mon 16 March 08:00 → 10:30 = 150.
    case = handled(world, catalog, at(2026, 3, 13, 16, 30), at(2026, 3, 16, 10, 30))
    refresh()
    assert fact(case).handling_minutes == 90 + 150 == 240
    counts = figures(world.j(TIANXIN), MARCH)
    assert only(counts, "closed_in_period", "timed", "handling_minutes") == {
        "closed_in_period": 1,
        "timed": 1,
        "handling_minutes": 240,
    }
    assert durations(world.j(TIANXIN), MARCH, TODAY) == Durations(1, Fraction(4), Fraction(4))
    check_paths(world, MARCH, Period(date(2026, 3, 14), date(2026, 3, 20)))


def test_handling_time_skips_national_day_and_counts_the_makeup_saturday(
    world: World, catalog: Catalog
) -> None:
    calendar = current_calendar()
    # The package's 2026 days, checked before relying on them.
    assert {calendar.day_kind(date(2026, 10, d)) for d in range(1, 8)} == {DayKind.PUBLIC_HOLIDAY}
    assert calendar.day_kind(date(2026, 10, 8)) == DayKind.WORKDAY  # Thursday
    assert calendar.day_kind(date(2026, 10, 10)) == DayKind.MAKEUP_WORKDAY  # Saturday, 调休上班
    assert calendar.day_kind(date(2026, 10, 11)) == DayKind.WEEKEND

    # Wed 30 Sep 17:00 → 18:00 = 60; 1–7 Oct nothing; Thu 8 and Fri 9 Oct 480 each; Sat 10 Oct (make-up)
    # 08:00 → 09:00 = 60. 1080 min = 18 h.
    holiday = handled(world, catalog, at(2026, 9, 30, 17), at(2026, 10, 10, 9))
    # Fri 9 Oct 16:00 → 18:00 = 120; Sat 10 Oct (make-up) 480; Sun 11 Oct nothing; Mon 12 Oct 08:00 → 09:00
    # = 60. 660 min = 11 h.
    makeup = handled(world, catalog, at(2026, 10, 9, 16), at(2026, 10, 12, 9))
    refresh()
    assert fact(holiday).handling_minutes == 60 + 480 + 480 + 60 == 1080
    assert fact(makeup).handling_minutes == 120 + 480 + 60 == 660

    node = world.j(TIANXIN)
    # The holiday case is September's cohort and October's flow.
    assert only(figures(node, SEPTEMBER), "received", "closed", "closed_in_period", "timed") == {
        "received": 1,
        "closed": 1,
        "closed_in_period": 0,
        "timed": 0,
    }
    assert only(figures(node, OCTOBER), "received", "closed", "closed_in_period", "handling_minutes") == {
        "received": 1,
        "closed": 1,
        "closed_in_period": 2,
        "handling_minutes": 1740,
    }
    # Average 1740 / 2 / 60 = 29/2 h; whole hours 11 and 18, median (11 + 18) / 2 = 29/2.
    assert durations(node, OCTOBER, TODAY) == Durations(2, Fraction(29, 2), Fraction(29, 2))
    # 1–10 October: only the holiday case closed (on the 10th).
    assert durations(node, Period(date(2026, 10, 1), date(2026, 10, 10)), TODAY) == Durations(
        1, Fraction(18), Fraction(18)
    )
    check_paths(
        world, Period(date(2026, 9, 1), date(2026, 10, 31)), Period(date(2026, 10, 1), date(2026, 10, 10))
    )


def test_handling_time_of_a_case_received_at_night_starts_at_the_next_opening(
    world: World, catalog: Catalog
) -> None:
    # Tue 17 March 21:00 (after closing) → Wed 18 March 08:00 → 12:00 = 240, 14:00 → 15:30 = 90: 330 min.
    evening = handled(world, catalog, at(2026, 3, 17, 21), at(2026, 3, 18, 15, 30))
    # Thu 19 March 02:00 in Shanghai (18 March 18:00 UTC) → 09:00 the same morning = 60 min; its day is
    # the 19th, the Shanghai day, not the UTC one.
    small_hours = handled(world, catalog, at(2026, 3, 19, 2), at(2026, 3, 19, 9))
    refresh()
    assert small_hours.received_at.astimezone(UTC) == datetime(2026, 3, 18, 18, tzinfo=UTC)
    assert fact(evening).handling_minutes == 330
    assert fact(small_hours).handling_minutes == 60
    assert fact(small_hours).received_day == date(2026, 3, 19)
    # Average (330 + 60) / 2 / 60 = 13/4 h; whole hours 5 and 1: median 3.
    assert durations(world.j(TIANXIN), MARCH, TODAY) == Durations(2, Fraction(13, 4), Fraction(3))
    check_paths(world, MARCH, Period(date(2026, 3, 18), date(2026, 3, 18)))


def test_average_and_median_of_handling_times(world: World, catalog: Catalog) -> None:
    # Four cases closed in March (minutes, whole hours):
    handled(world, catalog, at(2026, 3, 13, 16, 30), at(2026, 3, 16, 10, 30))  # 240, 4 h (Fri → Mon)
    handled(world, catalog, at(2026, 3, 17, 21), at(2026, 3, 18, 15, 30))  # 330, 5 h (from the evening)
    handled(world, catalog, at(2026, 3, 19, 10), at(2026, 3, 19, 10, 45))  # 45, 0 h
    # Mon 23 March 11:30 → 12:00 = 30, 14:00 → 18:00 = 240; Tue 24 08:00 → 12:00 = 240, 14:00 → 14:30 = 30:
    # the lunch breaks count nothing. 540, 9 h.
    handled(world, catalog, at(2026, 3, 23, 11, 30), at(2026, 3, 24, 14, 30))
    refresh()
    node = world.j(TIANXIN)
    # Even count: average 1155 / 4 / 60 = 77/16 h; whole hours 0, 4, 5, 9: median (4 + 5) / 2 = 9/2.
    assert durations(node, MARCH, TODAY) == Durations(4, Fraction(77, 16), Fraction(9, 2))
    # Odd count, an odd run of days (read by scanning): closed 18, 19 and 24 March — 5, 0 and 9 h.
    # Average (330 + 45 + 540) / 3 / 60 = 61/12 h; median 5.
    odd = Period(date(2026, 3, 18), date(2026, 3, 24))
    assert durations(node, odd, TODAY) == Durations(3, Fraction(61, 12), Fraction(5))
    # Nothing closed: no average, no median.
    assert durations(node, Period.month(2026, 4), TODAY) == Durations(0, None, None)
    check_paths(world, MARCH, odd)


def test_direct_answers_are_not_timed(world: World, catalog: Catalog) -> None:
    handled(world, catalog, at(2026, 3, 13, 16, 30), at(2026, 3, 16, 10, 30))  # 240 min
    consult = take_in(world, at(2026, 3, 13, 16, 30), nature="consult")
    on(at(2026, 3, 13, 16, 40), do_answer_directly, consult, answer="请携带身份证到窗口办理")
    refresh()
    assert fact(consult).handling_minutes is None
    # Both closed in March; only the handled one is timed.
    assert only(
        figures(world.j(TIANXIN), MARCH), "closed_in_period", "direct", "timed", "handling_minutes"
    ) == {
        "closed_in_period": 2,
        "direct": 1,
        "timed": 1,
        "handling_minutes": 240,
    }
    assert durations(world.j(TIANXIN), MARCH, TODAY) == Durations(1, Fraction(4), Fraction(4))
    check_paths(world, MARCH, Period(date(2026, 3, 13), date(2026, 3, 15)))


# --- 2. Periods -------------------------------------------------------------------------------------------


def test_a_case_received_at_2330_on_the_last_day_counts_in_that_month(world: World, catalog: Catalog) -> None:
    late = take_in(world, at(2026, 10, 31, 23, 30))
    # 00:10 on 1 November in Shanghai is still 31 October in UTC: it counts in November.
    early = take_in(world, at(2026, 11, 1, 0, 10))
    refresh()
    assert late.received_at.astimezone(UTC) == datetime(2026, 10, 31, 15, 30, tzinfo=UTC)
    assert early.received_at.astimezone(UTC) == datetime(2026, 10, 31, 16, 10, tzinfo=UTC)
    assert (fact(late).received_day, fact(early).received_day) == (date(2026, 10, 31), date(2026, 11, 1))
    node = world.j(TIANXIN)
    assert figures(node, OCTOBER)["received"] == 1
    assert figures(node, NOVEMBER)["received"] == 1
    days = daily_series(node, Period(date(2026, 10, 30), date(2026, 11, 1)))
    assert [row["received"] for row in days.values()] == [0, 1, 1]
    check_paths(
        world, Period(date(2026, 10, 1), date(2026, 11, 30)), Period(date(2026, 10, 31), date(2026, 10, 31))
    )


def test_received_in_october_closed_in_november_counts_in_octobers_cohort_and_novembers_flow(
    world: World, catalog: Catalog
) -> None:
    # Fri 30 Oct 16:00 → 18:00 = 120; Mon 2 Nov 480; Tue 3 Nov 08:00 → 10:00 = 120: 720 min.
    case = handled(world, catalog, at(2026, 10, 30, 16), at(2026, 11, 3, 10))
    refresh()
    assert fact(case).handling_minutes == 720
    node = world.j(TIANXIN)
    cohort = ("received", "due", "closed", "closed_on_time")
    flow = ("closed_in_period", "closed_in_period_on_time", "timed", "handling_minutes")
    october, november = figures(node, OCTOBER), figures(node, NOVEMBER)
    assert only(october, *cohort) == dict.fromkeys(cohort, 1)
    assert only(october, *flow) == dict.fromkeys(flow, 0)
    assert only(november, *cohort) == dict.fromkeys(cohort, 0)
    assert only(november, *flow) == {
        "closed_in_period": 1,
        "closed_in_period_on_time": 1,
        "timed": 1,
        "handling_minutes": 720,
    }
    both = Period(date(2026, 10, 1), date(2026, 11, 30))
    assert monthly_series(node, both) == {date(2026, 10, 1): october, date(2026, 11, 1): november}
    # An odd run across the boundary holds the receipt (30 Oct) but not the closing (3 Nov) …
    assert only(
        figures(node, Period(date(2026, 10, 26), date(2026, 11, 2))), "received", "closed_in_period"
    ) == {
        "received": 1,
        "closed_in_period": 0,
    }
    # … and the next one the closing only.
    assert only(
        figures(node, Period(date(2026, 10, 31), date(2026, 11, 6))), "received", "closed_in_period"
    ) == {
        "received": 0,
        "closed_in_period": 1,
    }
    # November so far, read on 15 November, comes from the monthly rows (nothing happens after the 15th).
    so_far, today = Period(date(2026, 11, 1), date(2026, 11, 15)), date(2026, 11, 15)
    assert so_far.whole_months_until(today)
    assert totals(node, so_far, today, Dim.CHANNEL, "hotline") == november
    check_paths(world, both, Period(date(2026, 10, 26), date(2026, 11, 2)))
    check_paths(world, so_far, today=today)


def test_previous_period_and_same_period_last_year() -> None:
    # 环比 of whole months: the same number of months right before.
    assert Period.month(2026, 3).previous() == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.month(2024, 3).previous() == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)
    assert (
        Period.quarter(2026, 1).previous()
        == Period.quarter(2025, 4)
        == Period(date(2025, 10, 1), date(2025, 12, 31))
    )
    assert Period.quarter(2026, 3).previous() == Period.quarter(2026, 2)
    assert Period.year(2026).previous() == Period.year(2025)
    assert Period(date(2026, 1, 1), date(2026, 2, 28)).previous() == Period(
        date(2025, 11, 1), date(2025, 12, 31)
    )
    # 环比 of an odd run: the same number of days right before.
    assert Period(date(2026, 10, 8), date(2026, 10, 14)).previous() == Period(
        date(2026, 10, 1), date(2026, 10, 7)
    )
    assert Period(date(2026, 10, 1), date(2026, 10, 15)).previous() == Period(
        date(2026, 9, 16), date(2026, 9, 30)
    )
    assert Period(date(2024, 2, 29), date(2024, 3, 6)).previous() == Period(
        date(2024, 2, 22), date(2024, 2, 28)
    )
    # 同比: the same dates a year earlier; 29 February → 28 February; whole months stay whole.
    assert Period.month(2026, 10).year_before() == Period.month(2025, 10)
    assert Period.quarter(2025, 1).year_before() == Period.quarter(2024, 1)
    assert Period.month(2024, 2).year_before() == Period(date(2023, 2, 1), date(2023, 2, 28))
    assert Period.month(2025, 2).year_before() == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert Period(date(2024, 2, 29), date(2024, 3, 6)).year_before() == Period(
        date(2023, 2, 28), date(2023, 3, 6)
    )
    assert Period(date(2024, 2, 10), date(2024, 2, 29)).year_before() == Period(
        date(2023, 2, 10), date(2023, 2, 28)
    )
    # Shapes.
    assert (Period.quarter(2026, 4).first, Period.quarter(2026, 4).last) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert (Period.quarter(2026, 1).months, Period.year(2026).months) == (3, 12)
    assert Period(date(2026, 10, 1), date(2026, 10, 15)).months is None
    assert Period(date(2024, 2, 1), date(2024, 2, 29)).days == 29
    with pytest.raises(ValueError, match="ends on or after"):
        Period(date(2026, 10, 2), date(2026, 10, 1))


def test_change_against_a_base() -> None:
    assert Change.of(12, 10) == Change(Fraction(12), Fraction(10), Fraction(2), Fraction(1, 5), True)
    assert Change.of(8, 10) == Change(Fraction(8), Fraction(10), Fraction(-2), Fraction(-1, 5), False)
    assert Change.of(10, 10) == Change(Fraction(10), Fraction(10), Fraction(0), Fraction(0), None)
    # Base 0: the difference, but no rate (not infinite).
    assert Change.of(3, 0) == Change(Fraction(3), Fraction(0), Fraction(3), None, True)
    assert Change.of(0, 0) == Change(Fraction(0), Fraction(0), Fraction(0), None, None)
    # No figure (a rate with no denominator): nothing to compare.
    assert Change.of(None, 5) == Change(None, Fraction(5), None, None, None)
    # Rates compare as fractions: (1/2 − 2/5) / (2/5) = 1/4.
    assert Change.of(Fraction(1, 2), Fraction(2, 5)).rate == Fraction(1, 4)


def test_month_on_month_and_year_on_year_of_real_figures(world: World, catalog: Catalog) -> None:
    for when in (at(2026, 9, 15, 10), at(2026, 9, 30, 23, 59)):  # September: 2
        take_in(world, when)
    for when in (at(2026, 10, 8), at(2026, 10, 9), at(2026, 10, 31, 23)):  # October: 3
        take_in(world, when)
    take_in(world, at(2025, 11, 1, 0, 0))  # 1 Nov 2025 00:00 in Shanghai: November, not October 2025
    refresh()
    node = world.j(TIANXIN)

    def received(period: Period) -> int:
        return figures(node, period)["received"]

    assert OCTOBER.previous() == SEPTEMBER
    mom = Change.of(received(OCTOBER), received(OCTOBER.previous()))  # 3 against 2
    assert (mom.diff, mom.rate, mom.rise) == (Fraction(1), Fraction(1, 2), True)
    yoy = Change.of(received(OCTOBER), received(OCTOBER.year_before()))  # 3 against 0
    assert (yoy.base, yoy.diff, yoy.rate, yoy.rise) == (Fraction(0), Fraction(3), None, True)
    assert received(Period.month(2025, 11)) == 1
    check_paths(
        world, Period(date(2025, 10, 1), date(2026, 10, 31)), Period(date(2026, 9, 30), date(2026, 10, 8))
    )


# --- 3. Every case counts once ----------------------------------------------------------------------------


def test_a_reopened_case_is_one_case_closed_where_it_last_closed(world: World, catalog: Catalog) -> None:
    node = world.j(TIANXIN)
    case = handled(world, catalog, at(2026, 10, 12, 9), at(2026, 10, 14, 10))
    revisit(case, at(2026, 10, 15, 10), "unsatisfied", "unresolved")
    refresh()
    assert only(figures(node, OCTOBER), "received", "closed", "closed_in_period") == {
        "received": 1,
        "closed": 1,
        "closed_in_period": 1,
    }

    on(at(2026, 11, 3, 9), do_reopen, case, reason="群众不满意，重办")
    refresh()
    # Open again: not closed, and its first closing no longer counts anywhere.
    assert only(figures(node, OCTOBER), "received", "closed", "reopened", "closed_in_period") == {
        "received": 1,
        "closed": 0,
        "reopened": 1,
        "closed_in_period": 0,
    }
    assert figures(node, NOVEMBER)["closed_in_period"] == 0

    on(at(2026, 11, 4, 9, 30), do_reply, case, reply="已彻底处理")
    on(at(2026, 11, 4, 10), do_verify, case, passed=True)
    refresh()
    october, november = figures(node, OCTOBER), figures(node, NOVEMBER)
    assert only(october, "received", "due", "closed", "reopened", "closed_in_period") == {
        "received": 1,
        "due": 1,
        "closed": 1,
        "reopened": 1,
        "closed_in_period": 0,
    }
    # Handling time, receipt to the latest closing: Mon 12 Oct 09:00 → 18:00 = 420; the working days
    # 13–16, 19–23, 26–30 Oct and 2–3 Nov = 16 × 480 = 7680; Wed 4 Nov 08:00 → 10:00 = 120. 8220 min.
    assert only(november, "received", "closed_in_period", "timed", "handling_minutes") == {
        "received": 0,
        "closed_in_period": 1,
        "timed": 1,
        "handling_minutes": 420 + 7680 + 120,
    }
    # The quarter holds both months: still one case received, one closed.
    assert only(figures(node, Period.quarter(2026, 4)), "received", "closed", "closed_in_period") == {
        "received": 1,
        "closed": 1,
        "closed_in_period": 1,
    }
    check_paths(world, Period.quarter(2026, 4), Period(date(2026, 10, 12), date(2026, 11, 3)))


def test_a_merged_case_is_received_only_and_its_master_counts_once(world: World, catalog: Catalog) -> None:
    master = take_in(world, at(2026, 10, 13, 9), reporter_name="李四", reporter_phone="13911112222")
    duplicate = take_in(world, at(2026, 10, 13, 10), reporter_name="王五", reporter_phone="13933334444")
    on(at(2026, 10, 13, 10, 5), do_merge, duplicate, master=master, reason="同一路口")
    on(at(2026, 10, 13, 10, 10), do_register, master, category=catalog.road)
    on(at(2026, 10, 13, 10, 20), do_dispatch, master, lead=unit(world, CG))
    on(at(2026, 10, 13, 10, 30), do_accept, master)
    replied_and_verified(master, at(2026, 10, 14, 10))
    refresh()
    counts = figures(world.j(TIANXIN), OCTOBER)
    assert only(counts, "received", "due", "registered", "dispatched", "closed", "closed_in_period") == {
        "received": 2,  # both were received
        "due": 1,  # the duplicate left the population
        "registered": 1,
        "dispatched": 1,
        "closed": 1,
        "closed_in_period": 1,
    }
    assert rate(counts, "close_rate") == Ratio(Fraction(1), 1)
    check_paths(world, OCTOBER, Period(date(2026, 10, 13), date(2026, 10, 13)))


def test_a_split_case_is_received_only_and_each_part_counts(world: World, catalog: Catalog) -> None:
    whole = take_in(world, at(2026, 10, 13, 9), title="路面塌陷且有违建")
    on(at(2026, 10, 13, 9, 10), do_register, whole, category=catalog.road)
    road, illegal = on(
        at(2026, 10, 13, 9, 20),
        do_split,
        whole,
        parts=[
            {"title": "路面塌陷", "description": "路口塌陷", "category": catalog.road},
            {"title": "违章搭建", "description": "旁边违建", "category": catalog.illegal},
        ],
    )
    on(at(2026, 10, 13, 9, 30), do_dispatch, road, lead=unit(world, CG))
    on(at(2026, 10, 13, 9, 40), do_accept, road)
    replied_and_verified(road, at(2026, 10, 14, 10))
    refresh()
    # Each part keeps the parent's receipt time.
    assert fact(road).received_day == fact(illegal).received_day == date(2026, 10, 13)
    node = world.j(TIANXIN)
    assert only(figures(node, OCTOBER), "received", "due", "registered", "dispatched", "closed") == {
        "received": 3,  # the parent and its two parts
        "due": 2,  # the parts
        "registered": 2,
        "dispatched": 1,
        "closed": 1,
    }
    by_category = breakdown(node, OCTOBER, TODAY, Dim.CATEGORY)
    # 道路破损 holds the parent (received only) and the road part.
    assert only(by_category[str(catalog.road.pk)], "received", "due", "closed") == {
        "received": 2,
        "due": 1,
        "closed": 1,
    }
    assert only(by_category[str(catalog.illegal.pk)], "received", "due", "closed") == {
        "received": 1,
        "due": 1,
        "closed": 0,
    }
    check_paths(world, OCTOBER, Period(date(2026, 10, 12), date(2026, 10, 14)))


def test_void_and_withdrawn_cases_count_as_received_only(world: World, catalog: Catalog) -> None:
    void = take_in(world, at(2026, 10, 13, 9))
    on(at(2026, 10, 13, 9, 10), do_void, void, reason="重复来电")
    # Withdrawn while a unit was handling it: it was registered and dispatched, but none of that counts.
    withdrawn = signed_for(world, at(2026, 10, 13, 10), catalog.road)
    on(at(2026, 10, 13, 11), do_withdraw, withdrawn, reason="群众撤回")
    kept = handled(world, catalog, at(2026, 10, 13, 14), at(2026, 10, 14, 10))
    refresh()
    assert fact(void).counts["received"] == fact(withdrawn).counts["received"] == 1
    assert fact(withdrawn).counts["dispatched"] == fact(withdrawn).counts["registered"] == 0
    assert fact(kept).counts["dispatched"] == 1
    counts = figures(world.j(TIANXIN), OCTOBER)
    assert only(counts, "received", "due", "registered", "dispatched", "accepted_on_time", "closed") == {
        "received": 3,
        "due": 1,
        "registered": 1,
        "dispatched": 1,
        "accepted_on_time": 1,
        "closed": 1,
    }
    assert rate(counts, "close_rate") == Ratio(Fraction(1), 1)
    check_paths(world, OCTOBER, Period(date(2026, 10, 13), date(2026, 10, 13)))


# --- 4. Each counter and rate -----------------------------------------------------------------------------
# Cases received on Monday 2 November 2026 (an ordinary working week) unless said otherwise. Signed for at
# 09:00, the handling deadline is Monday 9 November 09:00 (5 working days); its warning Friday 6th 09:00.

MON = at(2026, 11, 2, 9)


def test_close_rate(world: World, catalog: Catalog) -> None:
    handled(world, catalog, MON, at(2026, 11, 4, 10))  # closed
    consult = take_in(world, MON, nature="consult")
    on(at(2026, 11, 2, 9, 10), do_answer_directly, consult, answer="可通过政务网办理")  # closed
    signed_for(world, MON, catalog.road)  # open
    on(at(2026, 11, 2, 9, 10), do_void, take_in(world, MON), reason="不符合立案条件")  # not due
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "received", "due", "closed") == {"received": 4, "due": 3, "closed": 2}
    ratio = rate(counts, "close_rate")
    assert ratio == Ratio(Fraction(2), 3)
    assert ratio.value == Fraction(2, 3)
    assert ratio.percent == pytest.approx(66.6667, abs=1e-4)
    # No case due: no rate, not 0 %.
    empty = rate(figures(world.j(YUHUA), NOVEMBER), "close_rate")
    assert (empty, empty.value, empty.percent) == (Ratio(Fraction(0), 0), None, None)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 3)))


def test_on_time_close_rate_counts_missed_deadlines_and_honours_extensions(
    world: World, catalog: Catalog
) -> None:
    on_time = handled(world, catalog, MON, at(2026, 11, 3, 10))
    late = signed_for(world, MON, catalog.road)
    extended = signed_for(world, MON, catalog.road)
    still_open = signed_for(world, MON, catalog.road)
    # Two working days more, asked for and approved before the deadline: now Wed 11 Nov 09:00.
    request = on(
        at(2026, 11, 5, 10), do_request_extension, extended, amount=2, reason="需协调", time_unit="work_day"
    )
    on(at(2026, 11, 5, 11), do_decide_extension, extended, request=request, approve=True)

    # Mon 9 Nov 10:00: the handling deadline of ``late`` and ``still_open`` has passed; the sweep says so.
    run_sweep(at(2026, 11, 9, 10))
    overdue = CaseClock.objects.filter(stage=Stage.HANDLE, timing=Timing.OVERDUE)
    assert set(overdue.values_list("case_id", flat=True)) == {late.pk, still_open.pk}
    refresh()
    assert figures(world.j(TIANXIN), NOVEMBER)["overdue_open"] == 2

    replied_and_verified(late, at(2026, 11, 9, 11))  # after its deadline
    replied_and_verified(extended, at(2026, 11, 10, 10))  # after the first deadline, inside the extended one
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(
        counts,
        "due",
        "closed",
        "closed_on_time",
        "overdue_closed",
        "overdue_open",
        "extended",
        "closed_in_period",
        "closed_in_period_on_time",
    ) == {
        "due": 4,
        "closed": 3,
        "closed_on_time": 2,  # on_time and extended
        "overdue_closed": 1,  # late
        "overdue_open": 1,  # still_open
        "extended": 1,
        "closed_in_period": 3,
        "closed_in_period_on_time": 2,
    }
    assert rate(counts, "on_time_close_rate") == Ratio(Fraction(2), 4)  # of the due cases, not of the closed
    # The sweep also found the revisit of ``on_time`` late (1 working day after Tue 3 Nov 10:00; seriously
    # late by the 9th): the revisit runs after closing and does not count.
    assert CaseClock.objects.filter(case=on_time, stage=Stage.REVISIT, timing=Timing.SERIOUS).exists()
    assert fact(on_time).closed_on_time == 1
    check_paths(world, NOVEMBER, Period(date(2026, 11, 3), date(2026, 11, 9)))


def test_overdue_open_counts_open_cases_past_a_stage_deadline(world: World, catalog: Catalog) -> None:
    # Not registered within 2 working hours: the registration deadline is 11:00.
    unregistered = take_in(world, MON)
    fresh = take_in(world, at(2026, 11, 2, 10, 30))  # deadline 14:30: the lunch break does not count
    closed_late = take_in(world, MON)
    on(at(2026, 11, 2, 11, 5), do_register, closed_late, category=catalog.consult)  # late already
    on(at(2026, 11, 2, 11, 10), do_dispatch, closed_late, lead=unit(world, CG))
    on(at(2026, 11, 2, 11, 20), do_accept, closed_late)
    on(at(2026, 11, 2, 11, 30), do_reply, closed_late, reply="已答复")  # 政策咨询: no verification
    run_sweep(at(2026, 11, 2, 11, 30))
    refresh()
    node = world.j(TIANXIN)
    assert only(
        figures(node, NOVEMBER), "due", "closed", "overdue_open", "overdue_closed", "closed_on_time"
    ) == {
        "due": 3,
        "closed": 1,
        "overdue_open": 1,  # unregistered
        "overdue_closed": 1,  # closed_late
        "closed_on_time": 0,
    }
    assert fact(fresh).counts["overdue_open"] == 0
    # A missed deadline stays missed: registered and closed later, it is closed late.
    on(at(2026, 11, 2, 14), do_register, unregistered, category=catalog.consult)
    on(at(2026, 11, 2, 14), do_dispatch, unregistered, lead=unit(world, CG))
    on(at(2026, 11, 2, 14), do_accept, unregistered)
    on(at(2026, 11, 2, 15), do_reply, unregistered, reply="已答复")
    refresh()
    assert only(figures(node, NOVEMBER), "overdue_open", "overdue_closed") == {
        "overdue_open": 0,
        "overdue_closed": 2,
    }
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 2)))


def test_timely_accept_rate(world: World, catalog: Catalog) -> None:
    signed_for(world, MON, catalog.road)  # signed for at once
    late = take_in(world, MON)
    on(MON, do_register, late, category=catalog.road)
    on(MON, do_dispatch, late, lead=unit(world, CG))
    on(at(2026, 11, 3, 10), do_accept, late)  # the deadline was Tue 09:00
    waiting = take_in(world, MON)
    on(MON, do_register, waiting, category=catalog.road)
    on(MON, do_dispatch, waiting, lead=unit(world, CG))  # not signed for yet
    # Returned by the first unit, then signed for in time by the second.
    bounced = take_in(world, MON)
    on(MON, do_register, bounced, category=catalog.road)
    on(MON, do_dispatch, bounced, lead=unit(world, ZJ))
    on(at(2026, 11, 2, 9, 10), do_request_return, bounced, reason="道路养护不属住建职责")
    on(at(2026, 11, 2, 9, 20), do_approve_return, bounced)
    on(at(2026, 11, 2, 9, 30), do_dispatch, bounced, lead=unit(world, CG))
    on(at(2026, 11, 2, 9, 40), do_accept, bounced)
    on(MON, do_register, take_in(world, MON), category=catalog.road)  # never dispatched
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "due", "dispatched", "accepted_on_time") == {
        "due": 5,
        "dispatched": 4,
        "accepted_on_time": 2,
    }
    assert rate(counts, "timely_accept_rate") == Ratio(Fraction(2), 4)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 3)))


def _dispatch_and_return(world: World, case: Case, lead: str, minute: int) -> None:
    """Dispatched to ``lead`` at 10:``minute``; the unit asks to return it and the desk approves."""
    on(at(2026, 11, 2, 10, minute), do_dispatch, case, lead=unit(world, lead))
    on(at(2026, 11, 2, 10, minute + 1), do_request_return, case, reason="非本单位职责")
    on(at(2026, 11, 2, 10, minute + 2), do_approve_return, case)


def test_return_rate_counts_each_return(world: World, catalog: Catalog) -> None:
    twice = take_in(world, MON)
    on(MON, do_register, twice, category=catalog.road)
    _dispatch_and_return(world, twice, ZJ, 0)
    _dispatch_and_return(world, twice, CG, 10)
    on(at(2026, 11, 2, 10, 20), do_dispatch, twice, lead=unit(world, CG))
    on(at(2026, 11, 2, 10, 30), do_accept, twice)
    once = take_in(world, MON)
    on(MON, do_register, once, category=catalog.road)
    _dispatch_and_return(world, once, ZJ, 40)  # back at the desk, waiting to be dispatched again
    signed_for(world, MON, catalog.road)
    signed_for(world, MON, catalog.road)
    refresh()
    assert (fact(twice).counts["returns"], fact(once).counts["returns"]) == (2, 1)
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "dispatched", "returns", "returned") == {"dispatched": 4, "returns": 3, "returned": 2}
    assert rate(counts, "return_rate") == Ratio(Fraction(3), 4)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 2)))


def test_rework_rate(world: World, catalog: Catalog) -> None:
    reworked = signed_for(world, MON, catalog.road)
    on(at(2026, 11, 3, 10), do_reply, reworked, reply="已修复")
    on(at(2026, 11, 3, 10, 30), do_verify, reworked, passed=False, note="现场仍有坑洼")
    replied_and_verified(reworked, at(2026, 11, 4, 10))
    still_reworking = signed_for(world, MON, catalog.road)
    on(at(2026, 11, 3, 10), do_reply, still_reworking, reply="已修复")
    on(at(2026, 11, 3, 10, 30), do_verify, still_reworking, passed=False, note="未修复")
    handled(world, catalog, MON, at(2026, 11, 3, 10))
    handled(world, catalog, MON, at(2026, 11, 3, 11))
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    # ``reworked`` counts closed cases only (so 返工率 cannot pass 100 %): the case still being reworked is not in it.
    assert only(counts, "due", "closed", "reworked") == {"due": 4, "closed": 3, "reworked": 1}
    assert rate(counts, "rework_rate") == Ratio(Fraction(1), 3)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 3), date(2026, 11, 4)))


def test_reopen_rate(world: World, catalog: Catalog) -> None:
    reopened = handled(world, catalog, MON, at(2026, 11, 3, 10))
    revisit(reopened, at(2026, 11, 3, 15), "unsatisfied", "unresolved")
    on(at(2026, 11, 4, 9), do_reopen, reopened, reason="群众不满意，重办")
    replied_and_verified(reopened, at(2026, 11, 5, 10))
    revisit(reopened, at(2026, 11, 5, 15), "satisfied", "resolved")
    satisfied = handled(world, catalog, MON, at(2026, 11, 3, 10))
    revisit(satisfied, at(2026, 11, 3, 15), "satisfied", "resolved")
    reopened_open = handled(world, catalog, MON, at(2026, 11, 3, 10))
    revisit(reopened_open, at(2026, 11, 3, 15), "unsatisfied", "partly")
    on(at(2026, 11, 4, 9), do_reopen, reopened_open, reason="群众不满意，重办")  # being handled again
    handled(world, catalog, MON, at(2026, 11, 3, 10))  # not revisited yet
    unreached = handled(world, catalog, MON, at(2026, 11, 3, 10))
    unreached_revisit(unreached, at(2026, 11, 3, 15))  # no answer: not revisited
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "due", "closed", "revisited", "reopened") == {
        "due": 5,
        "closed": 4,
        "revisited": 3,  # reopened, satisfied, reopened_open (its answer stands while it is reworked)
        "reopened": 2,
    }
    assert rate(counts, "reopen_rate") == Ratio(Fraction(2), 3)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 3), date(2026, 11, 5)))


def test_response_rate(world: World, catalog: Catalog) -> None:
    consult = take_in(world, MON, nature="consult")
    on(at(2026, 11, 2, 9, 5), do_answer_directly, consult, answer="可通过政务网办理")  # responded
    replied = signed_for(world, MON, catalog.road)
    on(at(2026, 11, 4, 10), do_reply, replied, reply="已处理")  # responded
    accepted_late = take_in(world, MON)
    on(MON, do_register, accepted_late, category=catalog.road)
    on(MON, do_dispatch, accepted_late, lead=unit(world, CG))
    on(at(2026, 11, 3, 10), do_accept, accepted_late)  # the deadline was Tue 09:00
    on(at(2026, 11, 4, 10), do_reply, accepted_late, reply="已处理")
    replied_late = signed_for(world, MON, catalog.road)
    on(at(2026, 11, 10, 10), do_reply, replied_late, reply="已处理")  # the deadline was Mon 9 Nov 09:00
    signed_for(world, MON, catalog.road)  # no reply yet
    on(MON, do_register, take_in(world, MON), category=catalog.road)  # not dispatched yet
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "due", "direct", "accepted_on_time", "responded") == {
        "due": 6,
        "direct": 1,
        "accepted_on_time": 3,  # replied, replied_late and the one with no reply yet
        "responded": 2,  # consult and replied
    }
    assert rate(counts, "response_rate") == Ratio(Fraction(2), 6)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 4)))


def test_resolution_and_satisfaction_rates_weigh_the_latest_answer(world: World, catalog: Catalog) -> None:
    closed = at(2026, 11, 3, 10)
    satisfied = handled(world, catalog, MON, closed)
    revisit(satisfied, at(2026, 11, 3, 15), "satisfied", "resolved")
    basically = handled(world, catalog, MON, closed)
    revisit(basically, at(2026, 11, 3, 15), "basically", "partly")
    # Unsatisfied, reopened, closed again and then satisfied: the latest answer is the one that counts.
    won_over = handled(world, catalog, MON, closed)
    revisit(won_over, at(2026, 11, 3, 15), "unsatisfied", "unresolved")
    on(at(2026, 11, 4, 9), do_reopen, won_over, reason="重办")
    replied_and_verified(won_over, at(2026, 11, 5, 10))
    revisit(won_over, at(2026, 11, 5, 15), "satisfied", "resolved")
    # Unsatisfied, reopened, closed again, and then the resident could not be reached: the "not rated"
    # revisit is no answer, so the unsatisfied one stands.
    unreached_later = handled(world, catalog, MON, closed)
    revisit(unreached_later, at(2026, 11, 3, 15), "unsatisfied", "unresolved")
    on(at(2026, 11, 4, 9), do_reopen, unreached_later, reason="重办")
    replied_and_verified(unreached_later, at(2026, 11, 5, 10))
    unreached_revisit(unreached_later, at(2026, 11, 5, 15))
    never_reached = handled(world, catalog, MON, closed)
    unreached_revisit(never_reached, at(2026, 11, 3, 15))
    basically_solved = handled(world, catalog, MON, closed)
    revisit(basically_solved, at(2026, 11, 3, 15), "basically", "resolved")
    refresh()
    assert (fact(won_over).counts["satisfied"], fact(won_over).counts["solved"]) == (1, 1)
    assert (
        fact(unreached_later).counts["revisited"],
        fact(unreached_later).counts["satisfied"],
        fact(unreached_later).counts["solved"],
    ) == (1, 0, 0)
    assert fact(never_reached).counts["revisited"] == 0
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "revisited", "satisfied", "basically_satisfied", "solved", "partly_solved") == {
        "revisited": 5,  # all but never_reached
        "satisfied": 2,  # satisfied, won_over
        "basically_satisfied": 2,  # basically, basically_solved
        "solved": 3,  # satisfied, won_over, basically_solved
        "partly_solved": 1,  # basically
    }
    # Weights of the scheme: basically satisfied counts 4/5, partly solved 1/2.
    satisfaction = rate(counts, "satisfaction_rate", {"basically_satisfied": Fraction(4, 5)})
    assert satisfaction == Ratio(2 + 2 * Fraction(4, 5), 5)
    assert satisfaction.value == Fraction(18, 25)
    resolution = rate(counts, "resolution_rate", {"partly_solved": Fraction(1, 2)})
    assert resolution == Ratio(3 + Fraction(1, 2), 5)
    assert resolution.value == Fraction(7, 10)
    # Without weights each part counts whole; a weight for a counter that is not weighted is ignored.
    assert rate(counts, "satisfaction_rate") == Ratio(Fraction(4), 5)
    assert rate(counts, "resolution_rate", {"solved": Fraction(1, 2)}) == Ratio(Fraction(4), 5)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 3), date(2026, 11, 5)))


def test_direct_answer_rate(world: World, catalog: Catalog) -> None:
    answered = take_in(world, MON, nature="consult")
    on(at(2026, 11, 2, 9, 5), do_answer_directly, answered, answer="可通过政务网办理")
    archived = take_in(world, MON, nature="consult")
    on(at(2026, 11, 2, 9, 5), do_answer_directly, archived, answer="请致电社保中心")
    on(at(2026, 11, 6, 9), do_archive, archived)  # still answered directly
    handled(world, catalog, MON, at(2026, 11, 3, 10))
    on(at(2026, 11, 2, 9, 5), do_void, take_in(world, MON, nature="consult"), reason="重复来电")
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "received", "due", "direct", "dispatched", "closed", "timed") == {
        "received": 4,
        "due": 3,
        "direct": 2,
        "dispatched": 1,
        "closed": 3,
        "timed": 1,
    }
    assert rate(counts, "direct_answer_rate") == Ratio(Fraction(2), 3)
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 2)))


PROVEN_RATES = {
    "close_rate": test_close_rate,
    "on_time_close_rate": test_on_time_close_rate_counts_missed_deadlines_and_honours_extensions,
    "timely_accept_rate": test_timely_accept_rate,
    "return_rate": test_return_rate_counts_each_return,
    "rework_rate": test_rework_rate,
    "reopen_rate": test_reopen_rate,
    "response_rate": test_response_rate,
    "resolution_rate": test_resolution_and_satisfaction_rates_weigh_the_latest_answer,
    "satisfaction_rate": test_resolution_and_satisfaction_rates_weigh_the_latest_answer,
    "direct_answer_rate": test_direct_answer_rate,
}


def test_every_rate_has_a_test() -> None:
    assert set(PROVEN_RATES) == set(RATE)


# --- 5. Areas and breakdowns ------------------------------------------------------------------------------


def test_a_case_escalated_to_the_city_counts_once_in_each_area(world: World, catalog: Catalog) -> None:
    case = take_in(world, MON, actor="tx_hotline")
    on(MON, do_register, case, category=catalog.road)
    on(at(2026, 11, 2, 9, 10), do_escalate, case, reason="涉及市管道路")
    on(at(2026, 11, 2, 9, 20), do_dispatch, case, lead=unit(world, "430100-cg"))
    on(at(2026, 11, 2, 9, 30), do_accept, case)
    replied_and_verified(case, at(2026, 11, 3, 10))
    refresh()
    assert (fact(case).origin_id, fact(case).owner_id) == (world.j(BAJIAOTING).pk, world.j(CITY).pk)
    expected = {"received": 1, "escalated": 1, "closed": 1, "closed_in_period": 1}
    # Where it happened and every area above, and the city's desk that owns it: each once.
    for code in (CITY, TIANXIN, "430103002", BAJIAOTING):
        assert only(figures(world.j(code), NOVEMBER), *expected) == expected, code
    for code in (YUHUA, "430103004", "430103002002"):
        assert figures(world.j(code), NOVEMBER)["received"] == 0, code
    # 天心区's figures by unit show the city's unit that handled it.
    by_unit = breakdown(world.j(TIANXIN), NOVEMBER, TODAY, Dim.UNIT)
    assert set(by_unit) == {str(unit(world, "430100-cg").pk)}
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 2)))


def test_a_case_in_yuhua_never_counts_in_tianxin(world: World, catalog: Catalog) -> None:
    yuhua = handled(world, catalog, MON, at(2026, 11, 3, 10), lead="430111-cg", point=YH_POINT)
    handled(world, catalog, MON, at(2026, 11, 3, 10))
    refresh()
    assert fact(yuhua).owner_id == world.j(YUHUA).pk
    keys = ("received", "closed", "closed_in_period")
    assert only(figures(world.j(TIANXIN), NOVEMBER), *keys) == dict.fromkeys(keys, 1)
    assert only(figures(world.j(YUHUA), NOVEMBER), *keys) == dict.fromkeys(keys, 1)
    assert only(figures(world.j(CITY), NOVEMBER), *keys) == dict.fromkeys(keys, 2)
    tianxin_cells = set(breakdown(world.j(TIANXIN), NOVEMBER, TODAY, Dim.GRID))
    assert tianxin_cells == {str(world.cells["430103002001001"].pk)}
    tianxin_units = set(breakdown(world.j(TIANXIN), NOVEMBER, TODAY, Dim.UNIT))
    assert tianxin_units == {str(unit(world, CG).pk)}
    check_paths(world, NOVEMBER, Period(date(2026, 11, 3), date(2026, 11, 5)))


def test_a_case_counts_where_the_desk_that_owns_it_is(world: World, catalog: Catalog) -> None:
    # Happened in 天心区, escalated to the city, assigned down to 雨花区's desk: it counts in both districts
    # (where it happened, who owns it) and in the city once.
    case = take_in(world, MON)
    on(MON, do_register, case, category=catalog.road)
    on(at(2026, 11, 2, 9, 10), do_escalate, case, reason="跨区道路")
    on(at(2026, 11, 2, 9, 20), do_assign_down, case, to=world.j(YUHUA))
    refresh()
    assert fact(case).owner_id == world.j(YUHUA).pk
    for code in (CITY, TIANXIN, YUHUA, BAJIAOTING):
        assert figures(world.j(code), NOVEMBER)["received"] == 1, code
    assert figures(world.j("430111001"), NOVEMBER)["received"] == 0  # below the owner desk: neither
    check_paths(world, NOVEMBER, Period(date(2026, 11, 2), date(2026, 11, 2)))


def test_narrowed_totals_agree_with_breakdowns(world: World, catalog: Catalog) -> None:
    cg, zj = unit(world, CG), unit(world, ZJ)
    cell = world.cells["430103002001001"]
    top, middle = Category.objects.get(code="01"), Category.objects.get(code="0101")
    handled(world, catalog, MON, at(2026, 11, 3, 10))  # 1: road, hotline, complaint, cg, cell
    signed_for(world, MON, catalog.road, lead=ZJ, channel="web")  # 2: road, web, complaint, zj, cell
    # 3: illegal, hotline, help, cg, no cell (a place given without a point on the map)
    signed_for(
        world, MON, catalog.illegal, point=(100.0, 20.0), jurisdiction=world.j("430103004001"), nature="help"
    )
    consult = take_in(world, MON, channel="web", nature="consult")  # 4: consult, web, consult, no unit, cell
    on(MON, do_register, consult, category=catalog.consult)
    take_in(world, MON)  # 5: no category, hotline, complaint, no unit, cell
    refresh()
    node = world.j(TIANXIN)

    def counts_of(dim: Dim) -> dict[str, tuple[int, int, int]]:
        rows = breakdown(node, NOVEMBER, TODAY, dim)
        return {key: (row["received"], row["dispatched"], row["closed"]) for key, row in rows.items()}

    # (received, dispatched, closed) per key. A case counts under its category and every one above it.
    assert counts_of(Dim.CATEGORY) == {
        str(top.pk): (2, 2, 1),
        str(middle.pk): (2, 2, 1),
        str(catalog.road.pk): (2, 2, 1),
        str(catalog.illegal.pk): (1, 1, 0),
        str(catalog.consult.pk): (1, 0, 0),
    }
    assert counts_of(Dim.CHANNEL) == {"hotline": (3, 2, 1), "web": (2, 1, 0)}
    assert counts_of(Dim.NATURE) == {"complaint": (3, 2, 1), "help": (1, 1, 0), "consult": (1, 0, 0)}
    assert counts_of(Dim.UNIT) == {str(cg.pk): (2, 2, 1), str(zj.pk): (1, 1, 0)}
    assert counts_of(Dim.GRID) == {str(cell.pk): (4, 2, 1)}
    # Narrowed totals: the monthly rows for the month, the fact scan for an odd run; the same numbers.
    odd = Period(date(2026, 11, 2), date(2026, 11, 4))
    for period in (NOVEMBER, odd):
        assert totals(node, period, TODAY, Dim.CATEGORY, str(top.pk))["received"] == 2
        assert totals(node, period, TODAY, Dim.UNIT, str(zj.pk))["received"] == 1
        assert totals(node, period, TODAY, Dim.CHANNEL, "web")["received"] == 2
        assert totals(node, period, TODAY, Dim.NATURE, "help")["received"] == 1
        assert totals(node, period, TODAY, Dim.GRID, str(cell.pk))["closed_in_period"] == 1
    check_paths(world, NOVEMBER, odd)


# --- 6. Found by writing these tests, and fixed ------------------------------------------------------------


def test_a_case_waiting_for_its_new_unit_is_not_signed_for(world: World, catalog: Catalog) -> None:
    """A case signed for by a unit that then returned it is not "signed for" while it waits (待签收) for the
    next unit — nor under that next unit in the breakdown by unit: only the latest lead assignment counts."""
    case = signed_for(world, MON, catalog.road, lead=ZJ)  # 住建局 signs for it …
    on(at(2026, 11, 2, 9, 10), do_request_return, case, reason="道路养护不属住建职责")
    on(at(2026, 11, 2, 9, 20), do_approve_return, case)
    on(at(2026, 11, 2, 9, 30), do_dispatch, case, lead=unit(world, CG))  # … 城管局 has not yet
    refresh()
    case.refresh_from_db()
    assert case.status == "dispatched"
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert rate(counts, "timely_accept_rate") == Ratio(Fraction(0), 1)
    cg = breakdown(world.j(TIANXIN), NOVEMBER, TODAY, Dim.UNIT)[str(unit(world, CG).pk)]
    assert rate(cg, "timely_accept_rate") == Ratio(Fraction(0), 1)


def test_a_breakdown_by_unit_lists_only_units_with_cases(world: World, catalog: Catalog) -> None:
    """When a case moves to another key (here another lead unit) between two refreshes, the incremental path
    leaves the old key's monthly row behind with every counter 0; ``breakdown`` must not list it (the scan
    and a rebuild do not)."""
    case = signed_for(world, MON, catalog.road, lead=ZJ)
    refresh()  # counted while 住建局 holds it
    on(at(2026, 11, 2, 9, 10), do_request_return, case, reason="道路养护不属住建职责")
    on(at(2026, 11, 2, 9, 20), do_approve_return, case)
    on(at(2026, 11, 2, 9, 30), do_dispatch, case, lead=unit(world, CG))
    refresh()
    node, cg = world.j(TIANXIN), str(unit(world, CG).pk)
    assert set(scan_breakdown(node, NOVEMBER, Dim.UNIT)) == {cg}
    assert set(breakdown(node, NOVEMBER, TODAY, Dim.UNIT)) == {cg}


def test_a_revisit_that_answers_only_whether_it_was_solved_counts(world: World, catalog: Catalog) -> None:
    """A resident who says the problem is unresolved but will not rate satisfaction has answered the revisit:
    it counts as revisited (and the case was reopened on it), so the reopening rate is 1 / 1, not 1 / 0."""
    case = handled(world, catalog, MON, at(2026, 11, 3, 10))
    on(
        at(2026, 11, 3, 15),
        do_revisit,
        case,
        channel="phone",
        satisfaction="not_rated",
        resolution="unresolved",
    )
    on(at(2026, 11, 4, 9), do_reopen, case, reason="群众反映未解决")
    refresh()
    counts = figures(world.j(TIANXIN), NOVEMBER)
    assert only(counts, "revisited", "reopened", "solved", "partly_solved") == {
        "revisited": 1,
        "reopened": 1,
        "solved": 0,
        "partly_solved": 0,
    }
    assert rate(counts, "reopen_rate") == Ratio(Fraction(1), 1)
