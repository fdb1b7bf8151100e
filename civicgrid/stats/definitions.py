"""What the statistics count and how each rate is formed — the one list (docs/statistics.md explains it).

Every figure is a count of cases, never of rows in some other table, and every case counts once:

- **Cohort counts** are counted on the day the case was *received* (``received_at`` in Asia/Shanghai) and
  describe what has become of the cases received in the period, as they stand now. They answer the
  questions of an assessment: of what came in in March, how much was closed, how much on time, how
  satisfied were the residents. A case reopened and closed again is still one case; a merged case leaves
  the population (its master carries the work); a split case leaves it too and its parts enter it (each
  part is a case with the parent's receipt time).
- **Flow counts** are counted on the day the case was *closed* (its latest closing): how much work was
  finished in the period, and how long it took.

The counters below are the columns of the rollup tables and the fields of a case's fact row (one 0/1 flag,
or a number, per case). The rates are pairs of counters: numerator / denominator, both shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Bumped whenever a definition below changes meaning: the worker then rebuilds everything from the cases.
DEFINITIONS_VERSION = 2


class Axis(StrEnum):
    RECEIVED = "received"  # cohort: counted on the day of receipt
    CLOSED = "closed"  # flow: counted on the day of closing


@dataclass(frozen=True)
class Counter:
    code: str
    axis: Axis
    label: Promise
    help: Promise


C = Counter
R, X = Axis.RECEIVED, Axis.CLOSED

COUNTERS: tuple[Counter, ...] = (
    C("received", R, _("received"), _("Requests received in the period, whatever became of them.")),  # 受理数
    C(
        "due", R, _("due for closing"), _("Received and not dropped (void, merged, split or withdrawn).")
    ),  # 应结案数
    C("registered", R, _("registered"), _("Registered for handling (立案).")),  # 立案数
    C("direct", R, _("answered directly"), _("Answered at intake without dispatch.")),  # 直接答复数
    C("dispatched", R, _("dispatched"), _("Dispatched to a unit at least once.")),  # 派遣数
    C(
        "accepted_on_time",
        R,
        _("accepted on time"),
        _("Signed for by the unit with no acceptance deadline missed."),
    ),
    C(
        "responded",
        R,
        _("responded"),
        _("Answered directly, or signed for on time and replied within the limit."),
    ),
    C("returns", R, _("returns"), _("Approved returns (退单), counted each time.")),  # 回退次数
    C("returned", R, _("returned cases"), _("Cases returned at least once.")),
    C("extended", R, _("extended"), _("Cases with an approved extension.")),  # 延期
    C("escalated", R, _("escalated"), _("Cases escalated at least once (上报).")),
    C("closed", R, _("closed"), _("Due for closing and closed now (结案数).")),
    C("closed_on_time", R, _("closed on time"), _("Closed without any stage deadline missed (按期结案数).")),
    C("overdue_closed", R, _("closed late"), _("Closed after missing a stage deadline (超期结案数).")),
    C("overdue_open", R, _("open and overdue"), _("Still open and has missed a stage deadline (超期未结).")),
    C(
        "reworked",
        R,
        _("reworked"),
        _("Closed, after being sent back for rework at verification at least once (返工)."),
    ),
    C("reopened", R, _("reopened"), _("Reopened after the revisit at least once (重办).")),
    C(
        "revisited",
        R,
        _("revisited"),
        _("Revisited, and the resident answered whether it was solved or satisfied (回访)."),
    ),
    C("solved", R, _("solved"), _("The latest answered revisit: resolved.")),
    C("partly_solved", R, _("partly solved"), _("The latest answered revisit: partly resolved.")),
    C("satisfied", R, _("satisfied"), _("The latest answered revisit: satisfied.")),
    C(
        "basically_satisfied",
        R,
        _("basically satisfied"),
        _("The latest answered revisit: basically satisfied."),
    ),
    C(
        "closed_in_period",
        X,
        _("closed in the period"),
        _("Cases whose latest closing falls in the period (办结)."),
    ),
    C("closed_in_period_on_time", X, _("closed in the period on time"), _("Of those, closed on time.")),
    C(
        "timed",
        X,
        _("handling times"),
        _("Closed in the period after handling by a unit (not answered directly)."),
    ),
    C("handling_minutes", X, _("handling minutes"), _("Working minutes from receipt to closing, summed.")),
)
COUNTER_CODES: tuple[str, ...] = tuple(c.code for c in COUNTERS)
COUNTER = {c.code: c for c in COUNTERS}
RECEIVED_COUNTERS = tuple(c.code for c in COUNTERS if c.axis is Axis.RECEIVED)
CLOSED_COUNTERS = tuple(c.code for c in COUNTERS if c.axis is Axis.CLOSED)


@dataclass(frozen=True)
class Rate:
    code: str
    label: Promise
    numerator: tuple[str, ...]  # summed counters
    denominator: str
    # Weighted parts of the numerator (a scheme's weight for "basically satisfied" / "partly solved"):
    # the share of these counters that counts, 1 by default.
    weighted: tuple[str, ...] = ()
    # Returns, rework and reopening are failures: an assessment scores them the other way round.
    lower_is_better: bool = False


RATES: tuple[Rate, ...] = (
    Rate("close_rate", _("closing rate"), ("closed",), "due"),  # 结案率
    Rate("on_time_close_rate", _("on-time closing rate"), ("closed_on_time",), "due"),  # 按期结案率
    Rate(
        "timely_accept_rate", _("timely acceptance rate"), ("accepted_on_time",), "dispatched"
    ),  # 及时签收率
    Rate("return_rate", _("return rate"), ("returns",), "dispatched", lower_is_better=True),  # 回退率
    Rate("rework_rate", _("rework rate"), ("reworked",), "closed", lower_is_better=True),  # 返工率
    Rate("reopen_rate", _("reopening rate"), ("reopened",), "revisited", lower_is_better=True),  # 重办率
    Rate("response_rate", _("response rate"), ("responded",), "due"),  # 响应率
    Rate(
        "resolution_rate", _("resolution rate"), ("solved", "partly_solved"), "revisited", ("partly_solved",)
    ),
    Rate(
        "satisfaction_rate",
        _("satisfaction rate"),
        ("satisfied", "basically_satisfied"),
        "revisited",
        ("basically_satisfied",),
    ),  # 满意率
    Rate("direct_answer_rate", _("direct answer rate"), ("direct",), "due"),  # 直接答复率
)
RATE = {r.code: r for r in RATES}


class Dim(StrEnum):
    """What a breakdown is by. Each has rows in the monthly rollup."""

    CATEGORY = "category"  # the category and every category above it
    CHANNEL = "channel"
    NATURE = "nature"
    UNIT = "unit"  # the current lead unit
    GRID = "grid"  # the grid cell where it happened
