"""The overview's figures on a hand-built month (tests/overview/scenario.py), checked against numbers worked
out by hand: month and day boundaries in Beijing time, closed late versus on time, the revisit left out of
"on time", dropped cases out of the rates, and the other district's cases out of everything."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from civicgrid.lib.clock import frozen
from civicgrid.overview import figures
from civicgrid.overview.links import Links
from civicgrid.overview.queries import Period
from tests.overview.scenario import NOW, TIANXIN, Scenario, build
from tests.world import World


@pytest.fixture
def scenario(world: World) -> Scenario:
    return build(world)


def get(client: Client, url: str) -> Any:
    with frozen(NOW):
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response


def test_headline_figures_of_the_district(scenario: Scenario) -> None:
    h = figures.headline(scenario.world.u("tx_leader"), scenario.world.j("430103"), Period.at(NOW))
    assert h.received_today == TIANXIN["received_today"]
    assert h.received_month == TIANXIN["received_month"]
    assert h.closed_today == TIANXIN["closed_today"]
    assert h.closed_month == TIANXIN["closed_month"]
    assert h.open_now == TIANXIN["open_now"]
    assert h.overdue_now == TIANXIN["overdue_now"]
    assert (h.close_rate.numerator, h.close_rate.denominator) == (TIANXIN["closed"], TIANXIN["due"])
    assert (h.on_time_close_rate.numerator, h.on_time_close_rate.denominator) == (
        TIANXIN["on_time"],
        TIANXIN["due"],
    )
    assert h.close_rate.percent == "57.1"  # 4 / 7
    assert h.on_time_close_rate.percent == "42.9"  # 3 / 7
    assert h.revisits == TIANXIN["revisits"]
    assert (h.satisfied, h.basically_satisfied) == (TIANXIN["satisfied"], TIANXIN["basically"])
    assert (h.satisfaction_rate.numerator, h.satisfaction_rate.denominator) == (2, TIANXIN["answered"])
    assert h.satisfaction_rate.percent == "66.7"


def test_the_late_revisit_does_not_make_a_case_late(scenario: Scenario) -> None:
    """B was closed on time and revisited late: Case.was_overdue says late, the overview says on time."""
    b = scenario.cases["B"]
    assert b.was_overdue, "the scenario must revisit B after the revisit deadline"
    h = figures.headline(scenario.world.u("tx_leader"), scenario.world.j("430103"), Period.at(NOW))
    assert h.on_time_close_rate.numerator == 3


def test_the_day_before_and_the_first_of_the_month(scenario: Scenario) -> None:
    """Days are Beijing days: late on 03-15 nothing was received "today" (F comes at 00:30 on the 16th,
    which is still the 15th in UTC); on 03-01 at 00:15 G (00:10, still 02-28 in UTC) is this month's only
    case, and L (02-28 23:50 Beijing) belongs to February."""
    leader, node = scenario.world.u("tx_leader"), scenario.world.j("430103")
    sunday = figures.headline(leader, node, Period.at(NOW.replace(day=15, hour=23, minute=59)))
    assert sunday.received_today == 0
    assert sunday.closed_today == 0
    first = figures.headline(leader, node, Period.at(NOW.replace(day=1, hour=0, minute=15)))
    assert first.received_today == 1  # G, received 00:10 on the 1st (still 02-28 in UTC)
    assert first.received_month == 1


def test_the_other_districts_own_figures(scenario: Scenario) -> None:
    h = figures.headline(scenario.world.u("yh_dispatcher"), scenario.world.j("430111"), Period.at(NOW))
    assert (h.received_today, h.received_month, h.closed_today, h.closed_month) == (1, 2, 1, 1)
    assert (h.open_now, h.overdue_now) == (1, 1)
    assert (h.close_rate.numerator, h.close_rate.denominator) == (1, 2)
    assert h.revisits == 0
    assert h.satisfaction_rate.percent is None


def test_the_city_sees_both_districts(scenario: Scenario) -> None:
    h = figures.headline(scenario.world.u("cs_dispatcher"), scenario.world.j("430100"), Period.at(NOW))
    assert h.received_today == TIANXIN["received_today"] + 1
    assert h.overdue_now == TIANXIN["overdue_now"] + 1
    children = figures.child_areas(
        scenario.world.u("cs_dispatcher"), scenario.world.j("430100"), Period.at(NOW)
    )
    by_code = {c.node.code: (c.received_month, c.open_now, c.overdue_now) for c in children}
    # M is owned by the city's desk but happened in 天心区: it counts there.
    assert by_code == {"430103": (8, 4, 2), "430111": (2, 1, 1)}


def test_league_tables(scenario: Scenario) -> None:
    leader, node = scenario.world.u("tx_leader"), scenario.world.j("430103")
    period = Period.at(NOW)
    leagues = figures.leagues(leader, node, period, Links(node, period), TIANXIN["received_month"])
    units_overdue = [(r.code, r.figure.numerator, r.figure.denominator) for r in leagues.units_overdue]
    assert units_overdue == [("430103-cg", 1, 2)]  # D of D, E
    units_on_time = [(r.code, r.figure.numerator, r.figure.denominator) for r in leagues.units_on_time]
    # The city department leading M: 0 of 1; 天心区城管: B and K on time of B, C, D, E, K.
    assert units_on_time == [("430100-cg", 0, 1), ("430103-cg", 2, 5)]
    city = leagues.units_on_time[0]
    assert (city.numerator_url, city.denominator_url) == (None, None), "天心区 cannot filter on a city unit"
    tianxin = leagues.units_on_time[1]
    assert tianxin.denominator_url is not None
    assert "unit=430103-cg" in tianxin.denominator_url
    assert [(r.code, r.figure.numerator, r.figure.denominator) for r in leagues.grids_overdue] == [
        ("430103002001001", 2, 4)
    ]
    assert [(r.code, r.figure.numerator, r.figure.denominator) for r in leagues.grids_received] == [
        ("430103002001001", 8, 8)
    ]


def test_most_overdue_cases(scenario: Scenario) -> None:
    rows = figures.most_overdue(scenario.world.u("tx_leader"), scenario.world.j("430103"), Period.at(NOW))
    # L's registration was due 03-02 10:00 (first office hours after the Saturday night), D's reply 03-12.
    assert [r.number for r in rows] == [scenario.number("L"), scenario.number("D")]
    late_l, late_d = rows[0], rows[1]
    assert (late_l.late_days, late_l.late_hours) == (14, 0)
    assert (late_d.late_days, late_d.late_hours) == (4, 0)
    assert late_d.lead_unit == "天心区城市管理和综合执法局"
    assert late_l.lead_unit == ""


def _stat(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>.*?<strong>([^<]+)</strong>', html, re.S)
    assert match, element_id
    return match.group(1).strip()


def test_the_page_shows_the_figures(scenario: Scenario, client_for: Callable[[str], Client]) -> None:
    html = get(client_for("tx_leader"), "/overview/").content.decode()
    assert _stat(html, "fig-received-today") == "2"
    assert _stat(html, "fig-received-month") == "8"
    assert _stat(html, "fig-closed-today") == "1"
    assert _stat(html, "fig-closed-month") == "5"
    assert _stat(html, "fig-open") == "4"
    assert _stat(html, "fig-overdue") == "2"
    assert _stat(html, "fig-close-rate") == "57.1%"
    assert _stat(html, "fig-on-time-rate") == "42.9%"
    assert _stat(html, "fig-satisfaction") == "66.7%"
    # Numerator and denominator are on the page and in the title.
    assert re.search(r'id="fig-close-rate" title="[^"]*4[^"]*7', html)
    close_rate = html[html.index('id="fig-close-rate"') :]
    assert re.search(r'class="num-n">4</a> / <a [^>]*class="num-d">7</a>', close_rate)
    for key in ("D", "L"):  # the overdue list
        assert scenario.cases[key].title in html, key
    for key in ("A", "B", "C", "E", "M"):
        assert scenario.cases[key].title not in html, key
    assert "Y1 雨花" not in html


def test_the_page_in_english(scenario: Scenario, client_for: Callable[[str], Client]) -> None:
    client = client_for("tx_leader")
    with frozen(NOW):
        response = client.get("/overview/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Overview of 天心区" in html
    assert "Close rate this month" in html
    zh = get(client_for("tx_leader"), "/overview/").content.decode()
    assert "结案率" in zh
    assert "Close rate this month" not in zh
