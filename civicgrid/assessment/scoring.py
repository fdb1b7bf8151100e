"""Scoring and ranking, without the database: the rules of docs/assessment.md in one place.

An indicator's points (``mark``):
- no denominator (nothing to judge, e.g. no revisit): *not assessed* — its weight leaves the score's base;
- worse than the floor: 0 points, and the subject is *below the floor*;
- otherwise the points grow in a straight line from the zero point to the target and stay full beyond it.
  The zero point is the floor when there is one, else 0 % (100 % for rates where lower is better).

A subject's score is out of 100: the points earned over the weights of the indicators assessed, so a unit
with no revisits is judged on the rest rather than getting zero for them.

Ranks are competition ranks (1, 2, 2, 4) over the subjects with enough cases and a score. The black list is
everyone below a floor (when the scheme says so) plus the lowest ``black_count``; the red list the best
``red_count`` of each group not on the black list. Ties at a list's edge are all in; and neither draw takes
more than half of the subjects it draws from, so a list of three cannot be all red or all black.
Exact fractions throughout: two equal scores are equal, not 1e-16 apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from civicgrid.stats.figures import Counts, Ratio, rate

ONE = Fraction(1)
ZERO = Fraction(0)


@dataclass(frozen=True)
class IndicatorRule:
    rate: str
    weight: Fraction  # points
    target: Fraction  # a share, 0–1 (a return rate may pass 1)
    floor: Fraction | None
    lower_is_better: bool = False


@dataclass(frozen=True)
class Mark:
    rate: str
    ratio: Ratio
    points: Fraction | None  # None: not assessed (no denominator)
    weight: Fraction
    below_floor: bool = False


def mark(rule: IndicatorRule, ratio: Ratio) -> Mark:
    value = ratio.value
    if value is None:
        return Mark(rule.rate, ratio, None, rule.weight)
    if rule.lower_is_better:
        zero = rule.floor if rule.floor is not None else ONE
        below = rule.floor is not None and value > rule.floor
        gained, span = zero - value, zero - rule.target
    else:
        zero = rule.floor if rule.floor is not None else ZERO
        below = rule.floor is not None and value < rule.floor
        gained, span = value - zero, rule.target - zero
    if below:
        share = ZERO
    elif span <= 0:  # the target is the zero point: all or nothing
        share = ONE if gained >= span else ZERO
    else:
        share = min(ONE, max(ZERO, gained / span))
    return Mark(rule.rate, ratio, rule.weight * share, rule.weight, below)


def score(marks: Sequence[Mark]) -> Fraction | None:
    """Out of 100: the points over the weights of the indicators assessed; None when none is."""
    assessed = [m for m in marks if m.points is not None]
    weights = sum((m.weight for m in assessed), ZERO)
    if not assessed or weights == 0:
        return None
    return 100 * sum((m.points or ZERO for m in assessed), ZERO) / weights


@dataclass
class Entry:
    """One subject of a ranking: its figures, marks, score and where it stands."""

    key: str
    code: str
    name: str
    group: str
    counts: Counts
    marks: list[Mark]
    score: Fraction | None
    rankable: bool  # enough cases and a score
    rank: int | None = None
    standing: str = "unranked"  # models.Standing values
    below_floor: list[str] = field(default_factory=list)


def judge(
    key: str,
    code: str,
    name: str,
    group: str,
    counts: Counts,
    rules: Sequence[IndicatorRule],
    weights: Mapping[str, Fraction],
    min_due: int,
) -> Entry:
    marks = [mark(r, rate(counts, r.rate, weights)) for r in rules]
    s = score(marks)
    return Entry(
        key=key,
        code=code,
        name=name,
        group=group,
        counts=dict(counts),
        marks=marks,
        score=s,
        rankable=s is not None and counts["due"] >= min_due and counts["due"] > 0,
        below_floor=[m.rate for m in marks if m.below_floor],
    )


def _lowest_edge(scores: list[Fraction], count: int) -> Fraction | None:
    """The highest score still on a bottom list of ``count`` (at most half of ``scores``; ties are in)."""
    count = min(count, len(scores) // 2)
    return sorted(scores)[count - 1] if count > 0 else None


def rank(entries: list[Entry], *, red_count: int, black_count: int, floor_to_black: bool) -> list[Entry]:
    """Ranks, red and black lists; returns the entries in table order (ranked best first, then the
    unranked; ties by more cases, then by code). The red list is drawn per ``Entry.group``."""
    ranked = sorted((e for e in entries if e.rankable), key=lambda e: -(e.score or ZERO))
    for position, e in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        e.rank = previous.rank if previous is not None and previous.score == e.score else position
        e.standing = "ranked"
    black_edge = _lowest_edge([e.score for e in ranked if e.score is not None], black_count)
    for e in ranked:
        assert e.score is not None
        if (floor_to_black and e.below_floor) or (black_edge is not None and e.score <= black_edge):
            e.standing = "black"
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in ranked:
        groups[e.group].append(e)
    for members in groups.values():
        # At most half of the group (black ones included: they were drawn from it too).
        count = min(red_count, len(members) // 2)
        eligible = sorted(
            (e.score for e in members if e.standing != "black" and e.score is not None), reverse=True
        )
        if count <= 0 or not eligible:
            continue
        red_edge = eligible[min(count, len(eligible)) - 1]
        for e in members:
            if e.standing != "black" and e.score is not None and e.score >= red_edge:
                e.standing = "red"
    for e in entries:
        if not e.rankable:
            e.rank, e.standing = None, "unranked"
    return sorted(entries, key=lambda e: (e.rank is None, e.rank or 0, -(e.counts.get("due") or 0), e.code))
