"""The scoring and ranking rules (civicgrid/assessment/scoring.py), worked out by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest

from civicgrid.assessment.scoring import Entry, IndicatorRule, Mark, judge, mark, rank, score
from civicgrid.stats.figures import Ratio, zero

SAT = IndicatorRule("satisfaction_rate", Fraction(35), target=Fraction(1), floor=None)
SAT_FLOOR = IndicatorRule(
    "satisfaction_rate", Fraction(35), target=Fraction(95, 100), floor=Fraction(80, 100)
)
RETURNS = IndicatorRule(
    "return_rate", Fraction(10), target=Fraction(5, 100), floor=Fraction(20, 100), lower_is_better=True
)
RETURNS_NO_FLOOR = IndicatorRule(
    "return_rate", Fraction(10), target=Fraction(0), floor=None, lower_is_better=True
)


def r(n: int, d: int) -> Ratio:
    return Ratio(Fraction(n), d)


@pytest.mark.parametrize(
    ("rule", "ratio", "points", "below"),
    [
        # No floor: from 0 % (nothing) to the target (full), in a straight line.
        (SAT, r(90, 100), Fraction(315, 10), False),
        (SAT, r(0, 10), Fraction(0), False),
        (SAT, r(10, 10), Fraction(35), False),
        # A floor of 80 % and a target of 95 %: 80 % earns nothing, 87.5 % half, 95 % and above all of it.
        (SAT_FLOOR, r(80, 100), Fraction(0), False),
        (SAT_FLOOR, r(875, 1000), Fraction(35, 2), False),
        (SAT_FLOOR, r(95, 100), Fraction(35), False),
        (SAT_FLOOR, r(99, 100), Fraction(35), False),
        (SAT_FLOOR, r(79, 100), Fraction(0), True),  # below the floor: nothing, and flagged
        # Lower is better: at most 5 % returns earns all, 20 % nothing, above 20 % is below the floor.
        (RETURNS, r(5, 100), Fraction(10), False),
        (RETURNS, r(0, 100), Fraction(10), False),
        (RETURNS, r(125, 1000), Fraction(5), False),
        (RETURNS, r(20, 100), Fraction(0), False),
        (RETURNS, r(21, 100), Fraction(0), True),
        # With no floor the zero point is 100 %; returns counted each time can pass 100 %: still nothing.
        (RETURNS_NO_FLOOR, r(25, 100), Fraction(75, 10), False),
        (RETURNS_NO_FLOOR, r(3, 2), Fraction(0), False),
    ],
)
def test_an_indicator_earns_its_points_in_a_straight_line(
    rule: IndicatorRule, ratio: Ratio, points: Fraction, below: bool
) -> None:
    m = mark(rule, ratio)
    assert (m.points, m.below_floor) == (points, below)


def test_nothing_to_judge_is_not_zero_points() -> None:
    m = mark(SAT, r(0, 0))
    assert m.points is None
    assert not m.below_floor


def test_a_floor_equal_to_the_target_is_all_or_nothing() -> None:
    rule = IndicatorRule("close_rate", Fraction(20), target=Fraction(9, 10), floor=Fraction(9, 10))
    assert mark(rule, r(9, 10)).points == Fraction(20)
    assert mark(rule, r(89, 100)).points == Fraction(0)
    assert mark(rule, r(89, 100)).below_floor


def test_the_score_is_out_of_100_over_the_indicators_judged() -> None:
    judged = Mark("a", r(1, 2), Fraction(15), Fraction(30))
    full = Mark("b", r(1, 1), Fraction(70), Fraction(70))
    assert score([judged, full]) == Fraction(85)
    # An indicator with nothing to judge leaves the base: 15 of 30 is 50 out of 100.
    assert score([judged, Mark("c", r(0, 0), None, Fraction(70))]) == Fraction(50)
    assert score([Mark("c", r(0, 0), None, Fraction(70))]) is None
    assert score([]) is None


def entry(code: str, s: int | None, due: int = 10, group: str = "", below: bool = False) -> Entry:
    counts = zero() | {"due": due}
    return Entry(
        key=code,
        code=code,
        name=code,
        group=group,
        counts=counts,
        marks=[],
        score=None if s is None else Fraction(s),
        rankable=s is not None and due >= 5,
        below_floor=["satisfaction_rate"] if below else [],
    )


def standings(entries: list[Entry]) -> dict[str, tuple[int | None, str]]:
    return {e.code: (e.rank, e.standing) for e in entries}


def test_ranks_are_competition_ranks_and_the_lists_take_ties() -> None:
    entries = [entry(c, s) for c, s in [("a", 90), ("b", 95), ("c", 90), ("d", 60), ("e", 70), ("f", 60)]]
    ordered = rank(entries, red_count=1, black_count=1, floor_to_black=True)
    assert [e.code for e in ordered] == ["b", "a", "c", "e", "d", "f"]
    assert standings(ordered) == {
        "b": (1, "red"),
        "a": (2, "ranked"),
        "c": (2, "ranked"),
        "e": (4, "ranked"),
        "d": (5, "black"),  # tied at the bottom: both are on the black list
        "f": (5, "black"),
    }


def test_unranked_subjects_have_no_rank_and_are_listed_last() -> None:
    entries = [entry("a", 80), entry("b", 70), entry("few", 100, due=2), entry("none", None), entry("c", 60)]
    ordered = rank(entries, red_count=1, black_count=1, floor_to_black=True)
    assert standings(ordered) == {
        "a": (1, "red"),
        "b": (2, "ranked"),
        "c": (3, "black"),
        "few": (None, "unranked"),  # 100 points but only 2 cases: not ranked
        "none": (None, "unranked"),
    }
    assert [e.code for e in ordered][-2:] == ["none", "few"]  # the unranked: more cases first


def test_below_a_floor_is_black_whatever_the_rank_and_never_red() -> None:
    entries = [entry("top", 99, below=True), entry("b", 80), entry("c", 70), entry("d", 60)]
    ordered = rank(entries, red_count=1, black_count=1, floor_to_black=True)
    assert standings(ordered) == {"top": (1, "black"), "b": (2, "red"), "c": (3, "ranked"), "d": (4, "black")}
    # Without the rule the floor only costs the points.
    entries = [entry("top", 99, below=True), entry("b", 80), entry("c", 70), entry("d", 60)]
    ordered = rank(entries, red_count=1, black_count=1, floor_to_black=False)
    assert standings(ordered)["top"] == (1, "red")


def test_no_list_takes_more_than_half() -> None:
    entries = [entry("a", 90), entry("b", 80), entry("c", 70)]
    ordered = rank(entries, red_count=5, black_count=5, floor_to_black=True)
    assert standings(ordered) == {"a": (1, "red"), "b": (2, "ranked"), "c": (3, "black")}
    lone = rank([entry("a", 90)], red_count=5, black_count=5, floor_to_black=True)
    assert standings(lone) == {"a": (1, "ranked")}


def test_the_red_list_is_drawn_per_group() -> None:
    entries = [
        entry("s1", 90, group="坡子街"),
        entry("s2", 80, group="坡子街"),
        entry("s3", 85, group="城南路"),
        entry("s4", 50, group="城南路"),
        entry("s5", 40, group="城南路"),
        entry("s6", 45, group="城南路"),
    ]
    ordered = rank(entries, red_count=1, black_count=1, floor_to_black=True)
    assert standings(ordered) == {
        "s1": (1, "red"),
        "s3": (2, "red"),  # the best of its group, though second overall
        "s2": (3, "ranked"),
        "s4": (4, "ranked"),
        "s6": (5, "ranked"),
        "s5": (6, "black"),  # the black list is drawn from all together
    }


def test_judge_uses_the_schemes_weights_for_basically_satisfied() -> None:
    counts = zero() | {"due": 10, "revisited": 10, "satisfied": 6, "basically_satisfied": 4}
    plain = judge("k", "c", "n", "", counts, [SAT], {}, 5)
    weighted = judge("k", "c", "n", "", counts, [SAT], {"basically_satisfied": Fraction(1, 2)}, 5)
    assert plain.score == Fraction(100)
    assert weighted.marks[0].ratio == Ratio(Fraction(8), 10)
    assert weighted.score == Fraction(80)
    assert judge("k", "c", "n", "", counts | {"due": 4}, [SAT], {}, 5).rankable is False
