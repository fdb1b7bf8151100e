"""A month of cases for the assessment tests: 天心区城管 and 天心区住建 handle requests in 八角亭 in March
2026, and the residents rate them. Worked out by hand:

- 城管 (CG): three cases, all closed; revisits: satisfied, satisfied, unsatisfied → 结案率 3/3, 满意率 2/3.
- 住建 (ZJ): two cases, one closed and rated satisfied, one signed for and still open → 结案率 1/2, 满意率 1/1.
Everything happened in 八角亭社区 (坡子街街道, grid cell 430103002001001); nothing in 城南路街道.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from civicgrid.assessment import actions
from civicgrid.assessment.models import AssessmentScheme, Indicator
from civicgrid.cases.models import Case
from civicgrid.lib import clock
from civicgrid.stats.figures import Period
from civicgrid.stats.refresh import do_rebuild
from tests.cases.helpers import Catalog, build_catalog
from tests.stats.scenarios import CG, TIANXIN, ZJ, at, handled, refresh, revisit, signed_for
from tests.world import World

MARCH = Period.month(2026, 3)
TODAY = date(2026, 4, 15)  # the figures are read, and rankings published, in April


def build_month(world: World) -> tuple[Catalog, Case]:
    """The month's cases; returns the catalogue and 住建's open case."""
    catalog = build_catalog()
    with clock.frozen(at(2026, 1, 1)):
        do_rebuild(actor=None)
    for day, satisfaction in ((2, "satisfied"), (3, "satisfied"), (4, "unsatisfied")):
        case = handled(world, catalog, at(2026, 3, day, 9), at(2026, 3, day, 15), lead=CG)
        revisit(
            case,
            at(2026, 3, day + 1, 10),
            satisfaction,
            "resolved" if satisfaction == "satisfied" else "unresolved",
        )
    done = handled(world, catalog, at(2026, 3, 10, 9), at(2026, 3, 10, 15), lead=ZJ)
    revisit(done, at(2026, 3, 11, 10), "satisfied", "resolved")
    still_open = signed_for(world, at(2026, 3, 12, 9), catalog.road, lead=ZJ)
    refresh()
    return catalog, still_open


def unit_scheme(world: World, **fields: object) -> AssessmentScheme:
    """天心区's units, monthly: 结案率 50 points and 满意率 50 points, from 0 % to 100 %."""
    values: dict[str, object] = {
        "code": "tx-units",
        "name": "天心区职能部门月度考核",
        "jurisdiction": world.j(TIANXIN),
        "subject": "unit",
        "period": "month",
        "min_due": 1,
        "red_count": 1,
        "black_count": 1,
    }
    values.update(fields)
    scheme = actions.do_save_scheme(AssessmentScheme(**values), actor=None)
    for order, (rate, weight) in enumerate((("close_rate", 50), ("satisfaction_rate", 50))):
        add_indicator(scheme, rate, weight, order=order)
    return scheme


def add_indicator(
    scheme: AssessmentScheme,
    rate: str,
    weight: int,
    *,
    target: str = "100",
    floor: str | None = None,
    order: int = 0,
) -> Indicator:
    return actions.do_save_indicator(
        Indicator(
            scheme=scheme,
            rate=rate,
            weight=Decimal(weight),
            target=Decimal(target),
            floor=None if floor is None else Decimal(floor),
            order=order,
        ),
        actor=None,
    )
