"""A hand-built month for the overview's figures, on the real 2026 calendar (default limits of migration
cases/0002: register and dispatch 2 work hours, accept 1 work day, handle 5 work days, verify and revisit
1 work day). "Now" is Monday 2026-03-16 10:00 in Beijing; this month is 03-01 … 03-16.

Cases (八角亭 unless said otherwise; the letter is the key in ``Scenario.cases``):

A  received 02-26, replied and closed 03-03 on time, revisit 03-04 basically satisfied
B  received 03-02, closed 03-04 on time; revisited late (03-09) but satisfied: still closed on time
C  received 03-02, handling deadline 03-09, replied and closed 03-12 (late); revisit 03-13 unsatisfied
D  received 03-05, in handling, deadline 03-12 passed: overdue (the sweep has not run: due_at decides)
E  received today 09:30, dispatched, waiting for acceptance: open, on time
F  received today 00:30 Beijing (= 03-15 16:30 UTC), answered directly at 00:40: closed today on time
G  received 03-01 00:10 Beijing (= 02-28 16:10 UTC), voided: received this month, dropped
L  received 02-28 23:50 Beijing (= 02-28 15:50 UTC), never registered: last month's, open and overdue
J  received 02-02, closed 02-04, revisited 02-05: all in February
K  received 03-09, closed 03-10 on time; the resident could not be reached (not rated)
M  received 03-10, escalated to 长沙市 and led by the city's 城管局 (a unit 天心区 cannot see): open
Y1 雨花区, received 03-05, in handling and overdue          (outside 天心区: in no 天心区 figure)
Y2 雨花区, received today 08:00, answered directly
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from civicgrid.cases import actions as a
from civicgrid.cases.models import Case
from civicgrid.lib.clock import frozen
from tests.cases.helpers import YH_POINT, Catalog, build_catalog, new_case
from tests.world import World

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 16, 10, 0, tzinfo=CST)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


@dataclass
class Scenario:
    world: World
    catalog: Catalog
    cases: dict[str, Case]

    def number(self, key: str) -> str:
        return self.cases[key].number


def _handling(
    world: World, catalog: Catalog, when: str, *, lead: str = "430103-cg", **fields: object
) -> Case:
    with frozen(at(when)):
        case = new_case(world, actor=None, **fields)  # type: ignore[arg-type]
        a.do_register(case, category=catalog.road, actor=None)
        a.do_dispatch(case, lead=world.units[lead], actor=None)
        a.do_accept(case, actor=None)
    return case


def _close(case: Case, when: str) -> None:
    with frozen(at(when)):
        a.do_reply(case, reply="已处理完毕", actor=None)
        a.do_verify(case, passed=True, actor=None)


def _revisit(case: Case, when: str, satisfaction: str, **extra: object) -> None:
    values: dict[str, object] = {"resolution": "resolved", "comment": ""}
    values.update(extra)
    with frozen(at(when)):
        a.do_revisit(case, channel="phone", satisfaction=satisfaction, actor=None, **values)  # type: ignore[arg-type]


def build(world: World) -> Scenario:
    catalog = build_catalog()
    cases: dict[str, Case] = {}

    cases["A"] = _handling(world, catalog, "2026-02-26 10:00", title="A 路灯不亮")
    _close(cases["A"], "2026-03-03 10:00")
    _revisit(cases["A"], "2026-03-04 10:00", "basically")

    cases["B"] = _handling(world, catalog, "2026-03-02 09:00", title="B 井盖破损")
    _close(cases["B"], "2026-03-04 09:00")
    _revisit(cases["B"], "2026-03-09 10:00", "satisfied")

    cases["C"] = _handling(world, catalog, "2026-03-02 09:30", title="C 路面塌陷")
    _close(cases["C"], "2026-03-12 10:00")
    _revisit(cases["C"], "2026-03-13 10:00", "unsatisfied", resolution="unresolved", comment="还是不行")

    cases["D"] = _handling(world, catalog, "2026-03-05 10:00", title="D 占道经营")

    with frozen(at("2026-03-16 09:30")):
        cases["E"] = new_case(world, actor=None, title="E 噪音扰民")
        a.do_register(cases["E"], category=catalog.road, actor=None)
        a.do_dispatch(cases["E"], lead=world.units["430103-cg"], actor=None)

    with frozen(at("2026-03-16 00:30")):
        cases["F"] = new_case(world, actor=None, nature="consult", title="F 咨询办证")
    with frozen(at("2026-03-16 00:40")):
        a.do_answer_directly(cases["F"], answer="请携带身份证办理", actor=None)

    with frozen(at("2026-03-01 00:10")):
        cases["G"] = new_case(world, actor=None, title="G 重复来电")
    with frozen(at("2026-03-01 00:20")):
        a.do_void(cases["G"], reason="重复来电", actor=None)

    with frozen(at("2026-02-28 23:50")):
        cases["L"] = new_case(world, actor=None, title="L 深夜来电")

    cases["J"] = _handling(world, catalog, "2026-02-02 10:00", title="J 二月旧案")
    _close(cases["J"], "2026-02-04 10:00")
    _revisit(cases["J"], "2026-02-05 10:00", "satisfied")

    cases["K"] = _handling(world, catalog, "2026-03-09 10:00", title="K 绿化缺损")
    _close(cases["K"], "2026-03-10 10:00")
    _revisit(cases["K"], "2026-03-11 10:00", "not_rated", reached=False)

    with frozen(at("2026-03-10 10:00")):
        cases["M"] = new_case(world, actor=None, title="M 跨区污染")
        a.do_register(cases["M"], category=catalog.road, actor=None)
        a.do_escalate(cases["M"], reason="涉及全市", actor=None)
        a.do_dispatch(cases["M"], lead=world.units["430100-cg"], actor=None)
        a.do_accept(cases["M"], actor=None)

    cases["Y1"] = _handling(
        world, catalog, "2026-03-05 10:00", lead="430111-cg", point=YH_POINT, title="Y1 雨花"
    )
    with frozen(at("2026-03-16 08:00")):
        cases["Y2"] = new_case(world, actor=None, point=YH_POINT, nature="consult", title="Y2 雨花咨询")
        a.do_answer_directly(cases["Y2"], answer="已答复", actor=None)

    for case in cases.values():
        case.refresh_from_db()
    return Scenario(world, catalog, cases)


# What 天心区's overview must show at NOW, worked out by hand from the list above.
TIANXIN = {
    "received_today": 2,  # E, F
    "received_month": 8,  # B, C, D, E, F, G, K, M
    "closed_today": 1,  # F
    "closed_month": 5,  # A, B, C, F, K
    "open_now": 4,  # D, E, L, M
    "overdue_now": 2,  # D, L
    "due": 7,  # B, C, D, E, F, K, M (G was voided)
    "closed": 4,  # B, C, F, K
    "on_time": 3,  # B, F, K (C was late)
    "revisits": 4,  # A, B, C, K (J's was in February)
    "answered": 3,  # A, B, C (K not rated)
    "satisfied": 1,  # B
    "basically": 1,  # A
}
