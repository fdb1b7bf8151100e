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
from itertools import groupby

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
    if ratio.denominator == 0:
        return Mark(rule.rate, ratio, None, rule.weight)
    # value = a / c, zero point = zn / zd, target = tn / td: compared and divided as integers (exact, and a
    # ranking of 5,000 grid cells makes 10,000 marks; Fraction objects for every step were most of its time).
    a, c = ratio.numerator.numerator, ratio.numerator.denominator * ratio.denominator
    floor = rule.floor
    zero = floor if floor is not None else (ONE if rule.lower_is_better else ZERO)
    zn, zd = zero.numerator, zero.denominator
    tn, td = rule.target.numerator, rule.target.denominator
    if rule.lower_is_better:
        below = floor is not None and a * zd > zn * c
        gained, span = (zn * c - a * zd) * td, c * (zn * td - tn * zd)
    else:
        below = floor is not None and a * zd < zn * c
        gained, span = (a * zd - zn * c) * td, c * (tn * zd - zn * td)
    if below:
        share = ZERO
    elif span <= 0:  # the target is the zero point: all or nothing
        share = ONE if gained >= 0 else ZERO
    elif gained <= 0:
        share = ZERO
    elif gained >= span:
        share = ONE
    else:
        share = Fraction(gained, span)
    points = rule.weight if share is ONE else ZERO if share is ZERO else rule.weight * share
    return Mark(rule.rate, ratio, points, rule.weight, below)


def _total(parts: list[Fraction]) -> tuple[int, int]:
    """A sum of fractions as (numerator, denominator), not reduced: one gcd at the end instead of one per
    addition (the additions were most of a large ranking's time)."""
    n, d = 0, 1
    for p in parts:
        n, d = n * p.denominator + p.numerator * d, d * p.denominator
    return n, d


def score(marks: Sequence[Mark]) -> Fraction | None:
    """Out of 100: the points over the weights of the indicators assessed; None when none is."""
    assessed = [m for m in marks if m.points is not None]
    wn, wd = _total([m.weight for m in assessed])
    if not assessed or wn == 0:
        return None
    pn, pd = _total([m.points for m in assessed if m.points is not None])
    return Fraction(100 * pn * wd, pd * wn)


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


def _best_first(entries: list[Entry]) -> list[Entry]:
    """Sorted by score, best first, exactly: by the float of the score (rounding is monotonic, so different
    floats are in the right order), then each run of equal floats by the exact scores (5,000 comparisons
    of fractions took a tenth of a second)."""
    by_float = sorted(entries, key=lambda e: -float(e.score or 0))
    out: list[Entry] = []
    for _, run in groupby(by_float, key=lambda e: float(e.score or 0)):
        members = list(run)
        out += sorted(members, key=lambda e: -(e.score or ZERO)) if len(members) > 1 else members
    return out


def _lowest_edge(ranked: list[Entry], count: int) -> Fraction | None:
    """The highest score still on a bottom list of ``count`` (at most half of ``ranked``, which is sorted
    best first; ties are in)."""
    count = min(count, len(ranked) // 2)
    return ranked[len(ranked) - count].score if count > 0 else None


def rank(entries: list[Entry], *, red_count: int, black_count: int, floor_to_black: bool) -> list[Entry]:
    """Ranks, red and black lists; returns the entries in table order (ranked best first, then the
    unranked; ties by more cases, then by code). The red list is drawn per ``Entry.group``."""
    ranked = _best_first([e for e in entries if e.rankable])
    for position, e in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        e.rank = previous.rank if previous is not None and previous.score == e.score else position
        e.standing = "ranked"
    black_edge = _lowest_edge(ranked, black_count)
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
        # ``members`` keep the best-first order of ``ranked``.
        eligible = [e.score for e in members if e.standing != "black" and e.score is not None]
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
