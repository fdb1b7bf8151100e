"""Case fixtures: a small category catalogue with its limits, and recipes that bring a case to any state.

Categories (codes):
- ``01`` 城乡建设 (unit type cg) → ``0101`` 市政管理 → ``010101`` 道路破损: the default limits.
- ``02`` 违法建设 (unit type cg): staged handling limits 停工 4 工作时 → 处罚 7 工作日 → 拆除 20 工作日.
- ``03`` 重大安全隐患: must be handled at county level at least (min_level).
- ``04`` 咨询类: no verification required.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from civicgrid.cases import limits
from civicgrid.cases.actions import (
    do_accept,
    do_answer_directly,
    do_archive,
    do_assist_accept,
    do_assist_reply,
    do_await_resident,
    do_create_case,
    do_dispatch,
    do_merge,
    do_register,
    do_reply,
    do_request_confirmation,
    do_request_extension,
    do_request_return,
    do_revisit,
    do_split,
    do_suspend,
    do_verify,
    do_void,
    do_withdraw,
)
from civicgrid.cases.models import Case, CaseAssignment, Category, TimeLimit
from civicgrid.cases.workflow import Status
from civicgrid.jurisdictions.models import UnitType
from tests.world import World

BJT_POINT = (112.91, 28.11)  # inside grid cell 430103002001001 (八角亭社区)
YH_POINT = (113.11, 28.11)  # inside 梓园社区, 雨花区


@dataclass
class Catalog:
    road: Category  # 010101 道路破损
    illegal: Category  # 02 违法建设, staged limits
    major: Category  # 03, min_level county
    consult: Category  # 04, no verification


def build_catalog() -> Catalog:
    cg = UnitType.objects.get(code="cg")

    def cat(code: str, name: str, parent: Category | None = None, **extra: Any) -> Category:
        path = f"{parent.path if parent else ''}{code}/"
        return Category.objects.create(
            code=code, name=name, parent=parent, path=path, depth=path.count("/"), **extra
        )

    top = cat("01", "城乡建设", unit_type=cg)
    mid = cat("0101", "市政管理", top)
    road = cat("010101", "道路破损", mid)
    illegal = cat("02", "违法建设", unit_type=cg)
    for seq, (value, unit, label) in enumerate(
        [("4", "work_hour", "停工"), ("7", "work_day", "处罚"), ("20", "work_day", "拆除")]
    ):
        TimeLimit.objects.create(
            stage="handle", seq=seq, label=label, category=illegal, value=Decimal(value), unit=unit
        )
    major = cat("03", "重大安全隐患", min_level="county")
    consult = cat("04", "政策咨询", requires_verification=False)
    limits.invalidate()
    return Catalog(road=road, illegal=illegal, major=major, consult=consult)


def new_case(
    world: World, *, actor: str | None = "tx_hotline", point: tuple[float, float] = BJT_POINT, **fields: Any
) -> Case:
    values: dict[str, Any] = {
        "channel": "hotline",
        "nature": "complaint",
        "title": "路面塌陷",
        "description": "八角亭路口路面塌陷，请尽快处理。",
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
        "lon": point[0],
        "lat": point[1],
    }
    values.update(fields)
    case, created = do_create_case(actor=world.u(actor) if actor else None, **values)
    assert created
    return case


def unit(world: World, code: str) -> Any:
    return world.units[code]


def assist_of(case: Case) -> CaseAssignment:
    return CaseAssignment.objects.get(case=case, role="assist", is_current=True)


# --- Recipes: a case in any state, made by the system (actor None) ---------------------------------------


def _received(world: World, cat: Catalog) -> Case:
    return new_case(world, actor=None, nature="consult")


def _registered(world: World, cat: Catalog) -> Case:
    case = _received(world, cat)
    return do_register(case, category=cat.illegal, actor=None)


def _dispatched(world: World, cat: Catalog) -> Case:
    case = _registered(world, cat)
    return do_dispatch(case, lead=unit(world, "430103-cg"), assists=[unit(world, "430103-zj")], actor=None)


def _handling(world: World, cat: Catalog) -> Case:
    return do_accept(_dispatched(world, cat), actor=None)


def _with_extension_request(world: World, cat: Catalog) -> Case:
    case = _handling(world, cat)
    do_request_extension(case, amount=2, reason="需要协调", time_unit="work_day", actor=None)
    case.refresh_from_db()
    return case


def _replied(world: World, cat: Catalog) -> Case:
    case = _handling(world, cat)
    do_assist_accept(case, assignment=assist_of(case), actor=None)
    do_assist_reply(case, assignment=assist_of(case), reply="已配合", actor=None)
    return do_reply(case, reply="已修复", actor=None)


def _resolved(world: World, cat: Catalog) -> Case:
    return do_verify(_replied(world, cat), passed=True, actor=None)


def _revisited(world: World, cat: Catalog) -> Case:
    case = _resolved(world, cat)
    do_revisit(
        case,
        channel="phone",
        resolution="unresolved",
        satisfaction="unsatisfied",
        comment="没修好",
        actor=None,
    )
    case.refresh_from_db()
    return case


RECIPES: dict[Status, Callable[[World, Catalog], Case]] = {
    Status.RECEIVED: _received,
    Status.CONFIRMING: lambda w, c: do_request_confirmation(_received(w, c), actor=None),
    Status.REGISTERED: _registered,
    Status.DISPATCHED: _dispatched,
    Status.RETURN_REQUESTED: lambda w, c: do_request_return(
        _dispatched(w, c), reason="不属本单位职责", actor=None
    ),
    Status.HANDLING: _handling,
    Status.WAITING: lambda w, c: do_await_resident(
        _with_extension_request(w, c), note="等待补充材料", actor=None
    ),
    Status.SUSPENDED: lambda w, c: do_suspend(
        _with_extension_request(w, c), reason="等待法院裁定", actor=None
    ),
    Status.REPLIED: _replied,
    Status.RESOLVED: _resolved,
    Status.REVISITED: _revisited,
    Status.ARCHIVED: lambda w, c: do_archive(_revisited(w, c), actor=None),
    Status.DIRECT_ANSWERED: lambda w, c: do_answer_directly(
        _received(w, c), answer="请携带身份证办理", actor=None
    ),
    Status.VOID: lambda w, c: do_void(_received(w, c), reason="重复来电", actor=None),
    Status.MERGED: lambda w, c: do_merge(_received(w, c), master=_received(w, c), actor=None),
    Status.SPLIT: lambda w, c: _split(w, c),
    Status.WITHDRAWN: lambda w, c: do_withdraw(_received(w, c), reason="群众撤回", actor=None),
}


def _split(world: World, cat: Catalog) -> Case:
    case = _registered(world, cat)
    do_split(
        case,
        parts=[
            {"title": "路面", "description": "路面塌陷", "category": cat.road},
            {"title": "违建", "description": "违章搭建", "category": cat.illegal},
        ],
        actor=None,
    )
    case.refresh_from_db()
    return case


def reach(status: Status, world: World, cat: Catalog) -> Case:
    case = RECIPES[status](world, cat)
    case.refresh_from_db()
    assert case.status == status, (case.status, status)
    return case
