"""Rankings on a hand-built month (tests/assessment/scenario.py): the scores, ranks and lists worked out by
hand, areas and grid cells counted by the statistics' own totals, a scheme changed without code, and
published rankings that stay as they were published."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from civicgrid.assessment import actions
from civicgrid.assessment.models import AssessmentResult, AssessmentScheme, Indicator, SchemeEvent
from civicgrid.assessment.ranking import (
    Ranking,
    build_ranking,
    last_closed_period,
    parse_period,
    published_ranking,
)
from civicgrid.assessment.scoring import Entry
from civicgrid.cases.actions import do_reply, do_verify
from civicgrid.lib import clock
from civicgrid.stats import figures
from civicgrid.stats.figures import Period, Ratio
from tests.assessment.scenario import MARCH, TODAY, add_indicator, build_month, unit_scheme
from tests.stats.scenarios import BAJIAOTING, CG, TIANXIN, ZJ, at, on, refresh
from tests.world import World

pytestmark = pytest.mark.django_db


def by_code(ranking: Ranking) -> dict[str, Entry]:
    return {e.code: e for e in ranking.entries}


def test_units_are_scored_ranked_and_listed(world: World) -> None:
    build_month(world)
    scheme = unit_scheme(world)
    ranking = build_ranking(scheme, MARCH, TODAY)
    entries = by_code(ranking)
    cg, zj = entries[CG], entries[ZJ]
    assert cg.counts["due"] == 3
    assert zj.counts["due"] == 2
    assert [m.ratio for m in cg.marks] == [Ratio(Fraction(3), 3), Ratio(Fraction(2), 3)]
    assert [m.ratio for m in zj.marks] == [Ratio(Fraction(1), 2), Ratio(Fraction(1), 1)]
    assert cg.score == Fraction(50) + Fraction(100, 3)  # 50 + 2/3 × 50 = 83.33
    assert zj.score == Fraction(75)  # 1/2 × 50 + 50
    assert (cg.rank, cg.standing) == (1, "red")
    assert (zj.rank, zj.standing) == (2, "black")
    # Every other unit of 天心区 had no case: listed, not ranked. Units of 雨花区 are not in the scheme.
    others = [e for e in ranking.entries if e.code not in (CG, ZJ)]
    assert others
    assert all(e.rank is None and e.standing == "unranked" for e in others)
    assert "430111-cg" not in entries
    assert [e.code for e in ranking.entries[:2]] == [CG, ZJ]
    # The figures are the statistics' own: the unit's row of 天心区's breakdown.
    node = world.j(TIANXIN)
    unit_pk = str(world.units[ZJ].pk)
    assert zj.counts == figures.scan_totals(node, MARCH, "unit", unit_pk)


def test_a_scheme_changed_as_data_changes_the_ranking(world: World) -> None:
    build_month(world)
    scheme = unit_scheme(world)
    satisfaction = scheme.indicators.get(rate="satisfaction_rate")
    satisfaction.weight = Decimal(200)
    actions.do_save_indicator(satisfaction, actor=None)
    entries = by_code(build_ranking(scheme, MARCH, TODAY))
    # 城管: (50 + 2/3 × 200) / 250 = 73.33; 住建: (25 + 200) / 250 = 90: 住建 now leads.
    assert entries[CG].score == Fraction(100) * (Fraction(50) + Fraction(400, 3)) / 250
    assert entries[ZJ].score == Fraction(90)
    assert (entries[ZJ].standing, entries[CG].standing) == ("red", "black")
    # A floor of 70 % on 满意率: 城管's 66.7 % is below it — no points and the black list.
    satisfaction.floor = Decimal(70)
    actions.do_save_indicator(satisfaction, actor=None)
    entries = by_code(build_ranking(scheme, MARCH, TODAY))
    assert entries[CG].below_floor == ["satisfaction_rate"]
    assert entries[CG].marks[1].points == 0
    # Weighting "basically satisfied" is the scheme's too (here nobody said it, so nothing moves).
    scheme.basically_satisfied_weight = Decimal("0.8")
    actions.do_save_scheme(scheme, actor=None)
    assert by_code(build_ranking(scheme, MARCH, TODAY))[ZJ].score == Fraction(90)
    codes = list(SchemeEvent.objects.filter(scheme=scheme).values_list("code", flat=True))
    assert codes.count("indicator.saved") == 4
    assert codes.count("scheme.saved") == 2


def test_areas_and_grid_cells_are_counted_as_the_statistics_count_them(world: World) -> None:
    build_month(world)
    streets = actions.do_save_scheme(
        AssessmentScheme(
            code="tx-streets",
            name="天心区街道月度考核",
            jurisdiction=world.j(TIANXIN),
            subject="area",
            area_level="township",
            min_due=1,
        ),
        actor=None,
    )
    add_indicator(streets, "close_rate", 100)
    ranking = build_ranking(streets, MARCH, TODAY)
    entries = by_code(ranking)
    assert set(entries) == {"430103002", "430103004"}
    assert entries["430103002"].counts == figures.totals(world.j("430103002"), MARCH, TODAY)
    assert entries["430103002"].marks[0].ratio == Ratio(Fraction(4), 5)
    assert entries["430103004"].counts["due"] == 0
    assert entries["430103004"].standing == "unranked"
    assert ranking.link(entries["430103002"]) == (
        "/cases/?jurisdiction=430103002&received_from=2026-03-01&received_to=2026-03-31&counted=due"
    )
    cells = actions.do_save_scheme(
        AssessmentScheme(
            code="tx-grids", name="天心区网格考核", jurisdiction=world.j(TIANXIN), subject="grid", min_due=1
        ),
        actor=None,
    )
    add_indicator(cells, "close_rate", 100)
    grid = by_code(build_ranking(cells, MARCH, TODAY))
    assert set(grid) == {"430103002001001"}
    assert grid["430103002001001"].counts["due"] == 5
    assert BAJIAOTING in "430103002001001"


def test_a_published_ranking_stays_as_it_was_published(world: World) -> None:
    _, still_open = build_month(world)
    scheme = unit_scheme(world)
    with clock.frozen(at(2026, 4, 15, 10)):
        first = actions.do_publish_assessment(scheme, MARCH, note="三月考核", actor=world.u("tx_leader"))
    assert (first.version, first.published_by, first.note) == (1, world.u("tx_leader"), "三月考核")
    assert first.scheme_snapshot["indicators"][0]["rate"] == "close_rate"
    kept = published_ranking(first)
    assert by_code(kept)[ZJ].score == Fraction(75)
    # 住建 closes its open case in April: the live figures of March move, the published ones do not.
    on(at(2026, 4, 16, 10), do_reply, still_open, reply="已修复")
    on(at(2026, 4, 16, 11), do_verify, still_open, passed=True)
    refresh()
    assert by_code(build_ranking(scheme, MARCH, TODAY))[ZJ].marks[0].ratio == Ratio(Fraction(2), 2)
    again = published_ranking(AssessmentResult.objects.get(pk=first.pk))
    assert by_code(again)[ZJ].marks[0].ratio == Ratio(Fraction(1), 2)
    assert [(e.code, e.rank, e.standing, e.score) for e in again.entries] == [
        (e.code, e.rank, e.standing, e.score) for e in kept.entries
    ]
    # Nor does a later change of the scheme.
    scheme.indicators.filter(rate="close_rate").delete()
    assert [r.rate for r in published_ranking(first).rules] == ["close_rate", "satisfaction_rate"]
    # Publishing again is a new version beside the first.
    with clock.frozen(at(2026, 4, 20, 10)):
        second = actions.do_publish_assessment(scheme, MARCH, note="更正", actor=world.u("tx_supervisor"))
    assert second.version == 2
    assert AssessmentResult.objects.filter(scheme=scheme).count() == 2
    events = SchemeEvent.objects.filter(scheme=scheme, code="result.published").order_by("at")
    assert [e.data["version"] for e in events] == [1, 2]
    assert events[0].data["red"] == [CG]
    assert events[0].data["black"] == [ZJ]


@pytest.mark.parametrize("username", ["tx_dispatcher", "tx_admin", "bjt_leader", "yh_admin", "yh_dispatcher"])
def test_only_leaders_and_supervisors_of_the_area_publish(world: World, username: str) -> None:
    build_month(world)
    scheme = unit_scheme(world)
    with clock.frozen(at(2026, 4, 15, 10)), pytest.raises(PermissionDenied):
        actions.do_publish_assessment(scheme, MARCH, actor=world.u(username))
    assert not AssessmentResult.objects.exists()


def test_a_period_that_has_not_ended_cannot_be_published(world: World) -> None:
    scheme = unit_scheme(world)
    with clock.frozen(at(2026, 3, 31, 23)), pytest.raises(ValidationError) as caught:
        actions.do_publish_assessment(scheme, MARCH, actor=None)
    assert caught.value.message_dict == {"p": ["Only a period that has ended can be published."]}
    empty = actions.do_save_scheme(
        AssessmentScheme(code="empty", name="空", jurisdiction=world.j(TIANXIN), subject="unit"), actor=None
    )
    with clock.frozen(at(2026, 4, 15)), pytest.raises(ValidationError) as caught:
        actions.do_publish_assessment(empty, MARCH, actor=None)
    assert caught.value.message_dict == {"p": ["The scheme has no indicators yet: nothing can be scored."]}


def test_periods_follow_the_schemes_kind() -> None:
    from datetime import date

    assert last_closed_period("month", date(2026, 1, 5)) == Period.month(2025, 12)
    assert last_closed_period("quarter", date(2026, 5, 5)) == Period.quarter(2026, 1)
    assert last_closed_period("quarter", date(2026, 1, 1)) == Period.quarter(2025, 4)
    assert last_closed_period("year", date(2026, 5, 5)) == Period.year(2025)
    assert parse_period("quarter", "2026-q2") == Period.quarter(2026, 2)
    for kind, text in (("month", "2026-Q1"), ("month", "2026-13"), ("quarter", "2026-03"), ("year", "26")):
        with pytest.raises(ValidationError) as caught:
            parse_period(kind, text)
        assert list(caught.value.message_dict) == ["p"]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"subject": "area"}, {"area_level": ["Choose the level of the areas assessed."]}),
        (
            {"subject": "area", "area_level": "county"},
            {"area_level": ["The areas assessed must lie below the scheme's jurisdiction."]},
        ),
        (
            {"subject": "unit", "area_level": "township"},
            {"area_level": ["Only a scheme assessing areas has an area level."]},
        ),
        (
            {"subject": "grid", "grouping": "unit_type"},
            {"grouping": ["Only units can be grouped by unit type."]},
        ),
        (
            {"subject": "unit", "basically_satisfied_weight": Decimal("1.5")},
            {"basically_satisfied_weight": ["A weight between 0 and 1."]},
        ),
        ({"subject": "unit", "name": "  "}, {"name": ["Give the scheme a name."]}),
    ],
)
def test_a_bad_scheme_is_refused_at_its_field(
    world: World, fields: dict[str, object], errors: dict[str, list[str]]
) -> None:
    values: dict[str, object] = {"code": "bad", "name": "坏方案", "jurisdiction": world.j(TIANXIN)}
    values.update(fields)
    with pytest.raises(ValidationError) as caught:
        actions.do_save_scheme(AssessmentScheme(**values), actor=None)
    assert caught.value.message_dict == errors
    assert not AssessmentScheme.objects.exists()


@pytest.mark.parametrize(
    ("rate", "target", "floor", "errors"),
    [
        ("close_rate", "90", "95", {"floor": ["The floor may not be above the target."]}),
        (
            "return_rate",
            "5",
            "2",
            {
                "floor": [
                    "For this rate lower is better: the floor (the most allowed) may not be below the target."
                ]
            },
        ),
        ("close_rate", "120", None, {"target": ["A percentage from 0 to 100."]}),
    ],
)
def test_a_bad_indicator_is_refused_at_its_field(
    world: World, rate: str, target: str, floor: str | None, errors: dict[str, list[str]]
) -> None:
    scheme = unit_scheme(world)
    with pytest.raises(ValidationError) as caught:
        add_indicator(scheme, rate, 10, target=target, floor=floor)
    assert caught.value.message_dict == errors
    with pytest.raises(ValidationError) as caught:
        actions.do_save_indicator(Indicator(scheme=scheme, rate="close_rate", weight=Decimal(0)), actor=None)
    assert "weight" in caught.value.message_dict


def test_administrators_edit_only_their_own_schemes(world: World) -> None:
    scheme = unit_scheme(world)
    scheme.name = "改名"
    with pytest.raises(PermissionDenied):
        actions.do_save_scheme(scheme, actor=world.u("yh_admin"))
    actions.do_save_scheme(scheme, actor=world.u("tx_admin"))
    with pytest.raises(PermissionDenied):
        add_indicator_as(scheme, world, "yh_admin")
    scheme.jurisdiction = world.j("430111")
    with pytest.raises(PermissionDenied):  # nor move a scheme into another's area
        actions.do_save_scheme(scheme, actor=world.u("tx_admin"))


def add_indicator_as(scheme: AssessmentScheme, world: World, username: str) -> Indicator:
    return actions.do_save_indicator(
        Indicator(scheme=scheme, rate="response_rate", weight=Decimal(10)), actor=world.u(username)
    )
