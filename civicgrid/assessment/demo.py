"""Demo step of the assessments (after the statistics'): three schemes of the demo district, as a district
would set them up, and last month's published ranking of the departments. Idempotent: schemes are found by
code, and a period already published is not published again."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from civicgrid.demo.context import DemoContext
from civicgrid.jurisdictions.models import Jurisdiction, UnitType
from civicgrid.lib import clock

from . import actions
from .models import AssessmentResult, AssessmentScheme, Grouping, Indicator, PeriodKind, Subject
from .ranking import last_closed_period

# (rate, weight, target %, floor %)
Rule = tuple[str, int, str, str | None]

# 三率 as one published local scheme weighs them: 响应率 30 %, 解决率 35 %, 满意率 35 % (workflow.md §9).
DEPARTMENTS: list[Rule] = [
    ("response_rate", 30, "100", None),
    ("resolution_rate", 35, "100", None),
    ("satisfaction_rate", 35, "95", "70"),
]
# Floors a district sets where its streets stand (the demo history closes about half its cases on time): a
# floor everybody misses would put every street on the black list and say nothing.
STREETS: list[Rule] = [
    ("close_rate", 25, "100", None),
    ("on_time_close_rate", 25, "90", "30"),
    ("timely_accept_rate", 10, "100", None),
    ("satisfaction_rate", 30, "95", "70"),
    ("return_rate", 10, "5", "20"),
]
GRIDS: list[Rule] = [("on_time_close_rate", 50, "95", None), ("satisfaction_rate", 50, "95", None)]
DEPARTMENT_TYPES = ("cg", "zj", "mz", "rs", "wj", "sj", "sf", "police")


def _scheme(
    code: str, rules: list[Rule], unit_types: list[UnitType] | None = None, **fields: object
) -> AssessmentScheme:
    scheme = AssessmentScheme.objects.filter(code=code).first()
    if scheme is not None:
        return scheme
    scheme = actions.do_save_scheme(AssessmentScheme(code=code, **fields), unit_types=unit_types, actor=None)
    for order, (rate, weight, target, floor) in enumerate(rules):
        actions.do_save_indicator(
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
    return scheme


def load(ctx: DemoContext) -> None:
    county = Jurisdiction.objects.get(code=ctx.county_code)
    street = county.children.order_by("code").first()
    departments = _scheme(
        f"{county.code}-departments",
        DEPARTMENTS,
        list(UnitType.objects.filter(code__in=DEPARTMENT_TYPES)),
        name=f"{county.name}职能部门月度考核（三率）",
        description="响应率、解决率、满意率按 30%、35%、35% 计分；基本满意按 0.8、部分解决按 0.5 折算。",
        jurisdiction=county,
        subject=Subject.UNIT,
        period=PeriodKind.MONTH,
        min_due=5,
        basically_satisfied_weight=Decimal("0.8"),
        partly_solved_weight=Decimal("0.5"),
        red_count=3,
        black_count=3,
    )
    _scheme(
        f"{county.code}-streets",
        STREETS,
        name=f"{county.name}街道月度考核",
        description="结案、按期结案、及时签收、满意度与回退率综合计分。",
        jurisdiction=county,
        subject=Subject.AREA,
        area_level="township",
        period=PeriodKind.MONTH,
        min_due=5,
        basically_satisfied_weight=Decimal("0.8"),
        red_count=3,
        black_count=3,
    )
    if street is not None:
        _scheme(
            f"{street.code}-grids",
            GRIDS,
            name=f"{street.name}网格季度考核",
            description="各社区评出本社区最好的网格；全街道最差的三个网格上黑榜。",
            jurisdiction=street,
            subject=Subject.GRID,
            period=PeriodKind.QUARTER,
            min_due=3,
            grouping=Grouping.PARENT,
            red_count=1,
            black_count=3,
        )
    period = last_closed_period(departments.period, timezone.localtime(clock.now()).date())
    if not AssessmentResult.objects.filter(scheme=departments, period_first=period.first).exists():
        result = actions.do_publish_assessment(departments, period, note="演示：上月考核结果", actor=None)
        ctx.say(
            f"  assessment: published {departments.name} {period.first:%Y-%m} ({result.rows.count()} units)"
        )
