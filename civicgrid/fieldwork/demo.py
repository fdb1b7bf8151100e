"""Demo step: the grid worker's last month in the persona community (八角亭社区).

- About forty household visits, logged by the community's grid workers (bjt_grid1 in the first cell, the
  gw… workers in the others) through do_log_household_visit (actor None, the worker as visitor) under a
  frozen clock, as if logged right after each visit.
- Six events that bjt_grid1 reported from the street in the last two weeks (one from a visit), walked by
  the people who would act on them — the grid leader's community desk registers and dispatches to the
  community committee, whose handler accepts and replies — so that My grid shows open cases and My tasks
  has replies waiting for on-site verification (核查). The cases history (civicgrid.cases.demo) has few
  open cases in any one cell, so without these the persona's screens would be empty.

Idempotent: a visit is known by its worker, address and findings (a run on a later day does not add the
same visits again at other times); an event by its intake key ``demo:field:<n>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone

from civicgrid.accounts.actions import do_grant_role
from civicgrid.accounts.demo import ensure_staff
from civicgrid.accounts.models import Role, RoleGrant, User
from civicgrid.cases import notify
from civicgrid.cases.actions import do_accept, do_dispatch, do_register, do_reply, do_verify
from civicgrid.cases.models import Case, Category, Nature
from civicgrid.demo.context import DemoContext, person_name
from civicgrid.fieldwork.actions import do_log_household_visit, do_report_event
from civicgrid.fieldwork.models import HouseholdVisit, VisitPurpose
from civicgrid.grids.demo import PERSONA_COMMUNITY, PERSONA_LEADER, PERSONA_WORKER
from civicgrid.grids.models import Building, GridCell
from civicgrid.jurisdictions.demo import unit_code
from civicgrid.jurisdictions.models import Level, Unit
from civicgrid.lib import clock

PERSONA_VISITS = 16  # the persona's own cell gets the most, so their log fills a screen
OTHER_VISITS = 8  # per other cell of the community
DAYS = 30

# (purpose, findings, needs a follow-up): what grid workers typically write down.
FINDINGS: list[tuple[str, str, bool]] = [
    (VisitPurpose.ROUTINE, "入户核对实有人口信息，家庭成员无变化，居民反映小区东门路灯晚上不亮。", False),
    (VisitPurpose.ROUTINE, "走访独居老人，身体状况良好，提醒注意防范电信诈骗，留下网格员联系方式。", False),
    (VisitPurpose.ROUTINE, "核对出租屋租住人员，新增租户2人，已登记居住信息。", False),
    (VisitPurpose.ROUTINE, "住户反映楼道堆放纸箱杂物影响通行，已现场劝导，住户同意本周内清理。", True),
    (VisitPurpose.FOLLOW_UP, "回访上次反映的厨房渗水问题，物业已上门维修，住户表示满意。", False),
    (VisitPurpose.FOLLOW_UP, "回访低保家庭，了解近期就业情况，已推荐社区公益性岗位。", True),
    (
        VisitPurpose.SPECIAL_POPULATION,
        "看望高龄独居老人，送去防暑降温物品，老人生活能自理，子女每周来探望。",
        False,
    ),
    (VisitPurpose.SPECIAL_POPULATION, "走访残疾人家庭，了解辅具适配需求，已登记并报社区残协。", True),
    (VisitPurpose.SPECIAL_POPULATION, "关爱留守儿童，父母在外务工，由祖母照看，学习情况正常。", False),
    (VisitPurpose.SAFETY_CHECK, "检查出租屋消防安全，发现电动车在楼道内充电，已要求立即整改。", True),
    (VisitPurpose.SAFETY_CHECK, "检查燃气使用情况，燃气软管老化开裂，建议尽快更换，三天后复查。", True),
    (VisitPurpose.SAFETY_CHECK, "排查高空坠物隐患，阳台外侧花盆摆放不稳，已提醒住户移入室内。", False),
    (
        VisitPurpose.DISPUTE_SCREENING,
        "楼上楼下因夜间噪音产生矛盾，现场调解，双方同意晚十点后降低音量。",
        True,
    ),
    (VisitPurpose.DISPUTE_SCREENING, "相邻住户因漏水责任产生纠纷，已协调物业上门查明渗漏点。", True),
    (VisitPurpose.OTHER, "宣传垃圾分类和文明养犬，发放宣传资料，住户表示支持。", False),
    (VisitPurpose.OTHER, "协助老人了解社保卡补办流程，一次性告知所需材料。", False),
]


def _when(ctx: DemoContext, worker: str, seq: int, today: datetime) -> datetime:
    """A working-hours moment within the last DAYS days (never today after now)."""
    rng = ctx.rng("visit", worker, seq)
    day = today.date() - timedelta(days=rng.randint(1, DAYS))
    minutes = rng.randint(9 * 60, 17 * 60 + 30)
    return timezone.make_aware(datetime.combine(day, time(minutes // 60, minutes % 60)))


def load(ctx: DemoContext) -> None:
    _load_visits(ctx)
    with notify.suppressed():  # nobody is told today about last week's demo events
        _load_events(ctx)


def _load_visits(ctx: DemoContext) -> None:
    cells = list(
        GridCell.objects.filter(community__code=PERSONA_COMMUNITY, is_active=True)
        .prefetch_related("workers", "buildings")
        .order_by("code")
    )
    today = timezone.localtime()
    created = 0
    for index, cell in enumerate(cells):
        workers = sorted(cell.workers.all(), key=lambda w: w.username)
        buildings = sorted(cell.buildings.all(), key=lambda b: b.code)
        if not workers or not buildings:
            continue
        worker = next((w for w in workers if w.username == PERSONA_WORKER), workers[0])
        known = set(HouseholdVisit.objects.filter(by=worker).values_list("address", "findings"))
        count = PERSONA_VISITS if index == 0 else OTHER_VISITS
        for seq in range(count):
            rng = ctx.rng("visit-data", cell.code, seq)
            purpose, findings, follow_up = FINDINGS[(seq * 7 + index * 3) % len(FINDINGS)]
            building = buildings[seq % len(buildings)]
            address = f"{building.name}{rng.randint(1, 4)}单元{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
            if (address, findings) in known:
                continue
            at = _when(ctx, worker.username, seq, today)
            with clock.frozen(at + timedelta(minutes=rng.randint(5, 90))):
                do_log_household_visit(
                    grid_cell=cell,
                    building=building,
                    address=address,
                    household_head=person_name(ctx.rng("household", cell.code, seq)),
                    visited_at=at,
                    purpose=purpose,
                    findings=findings,
                    needs_follow_up=follow_up,
                    visitor=worker,
                    actor=None,
                )
            known.add((address, findings))
            created += 1
    if created:
        ctx.say(f"    household visits: {created} created")


@dataclass(frozen=True)
class Event:
    title: str
    description: str
    category: tuple[str, str]  # (parent name, name) in the imported taxonomy
    days_ago: float
    stop: str  # received | registered | handling | replied | resolved
    reply: str = ""
    from_visit: str = ""  # the findings of the persona's visit it was reported from


EVENTS: list[Event] = [
    Event(
        "1栋门前路灯不亮",
        "八角亭社区1栋门前两盏路灯连续三晚不亮，居民夜间出行不便，老人反映看不清台阶。",
        ("城市建设和市政管理", "城市公共设施"),
        9,
        "replied",
        "已派电工更换灯泡和镇流器，两盏路灯恢复照明。",
    ),
    Event(
        "楼道内电动车违规充电",
        "2栋2单元楼道内有电动车飞线充电，存在火灾隐患，住户劝说无效。",
        ("安全生产", "安全隐患"),
        6,
        "replied",
        "已联合物业上门劝导，拆除飞线，电动车已移至小区集中充电点。",
        from_visit="检查出租屋消防安全，发现电动车在楼道内充电，已要求立即整改。",
    ),
    Event(
        "垃圾桶满溢未及时清运",
        "小区东门垃圾收集点垃圾桶满溢，周边有异味，已两天未清运。",
        ("城市建设和市政管理", "环境卫生"),
        4,
        "handling",
    ),
    Event(
        "绿化带堆放建筑垃圾",
        "1栋北侧绿化带被装修户堆放建筑垃圾，约两立方米，压坏草坪。",
        ("城市建设和市政管理", "园林绿化"),
        2,
        "registered",
    ),
    Event(
        "人行道井盖松动",
        "八角亭路口人行道上一处井盖松动，踩上去晃动，有绊倒风险。",
        ("城市建设和市政管理", "城市公共设施"),
        0.2,
        "received",
    ),
    Event(
        "楼顶违章搭建雨棚",
        "2栋楼顶有住户新搭建彩钢雨棚，约十平方米。",
        ("城乡规划", "违章建筑"),
        13,
        "resolved",
        "已责令住户自行拆除，现场复查雨棚已拆除完毕。",
    ),
]


def _category(names: tuple[str, str]) -> Category | None:
    parent, name = names
    return Category.objects.filter(name=name, parent__name=parent, is_active=True).first()


def _committee_handler(ctx: DemoContext, unit: Unit) -> User:
    """Whoever handles for the community committee already, else a generated handler (as the cases demo
    makes them: ``hd<unit code>``)."""
    # Chosen here, not by "ORDER BY username LIMIT 1" (see civicgrid/cases/demo_staff.py).
    grants = RoleGrant.objects.filter(unit=unit, role=Role.HANDLER, user__is_active=True)
    grant = min(grants.select_related("user"), key=lambda g: g.user.username, default=None)
    if grant is not None:
        return grant.user
    user, _created = ensure_staff(ctx, f"hd{unit.code}", person_name(ctx.rng("name", f"hd{unit.code}")))
    do_grant_role(user, role=Role.HANDLER, unit=unit, actor=None)
    return user


def _load_events(ctx: DemoContext) -> None:
    cell = GridCell.objects.filter(code=f"{PERSONA_COMMUNITY}001", is_active=True).first()
    worker = User.objects.filter(username=PERSONA_WORKER).first()
    leader = User.objects.filter(username=PERSONA_LEADER).first()
    unit = Unit.objects.filter(
        code=unit_code(PERSONA_COMMUNITY, "community_committee"), is_active=True
    ).first()
    if cell is None or worker is None or leader is None or unit is None:
        return
    buildings = list(Building.objects.filter(grid_cell=cell, lat__isnull=False).order_by("code"))
    points = [(b.lon, b.lat, b.name) for b in buildings] or [(cell.center_lon, cell.center_lat, cell.name)]
    now = clock.now()
    handler: User | None = None
    created = 0
    for n, event in enumerate(EVENTS, start=1):
        key = f"demo:field:{n}"
        if Case.objects.filter(intake_key=key).exists():
            continue
        lon, lat, place = points[n % len(points)]
        visit = None
        if event.from_visit:
            visit = HouseholdVisit.objects.filter(
                by=worker, findings=event.from_visit, created_case__isnull=True, grid_cell=cell
            ).first()
        at = now - timedelta(days=event.days_ago)
        with clock.frozen(at):
            case, _new = do_report_event(
                category=_category(event.category),
                title=event.title,
                description=event.description,
                nature=Nature.REPORT,
                address=place,
                lon=lon,
                lat=lat,
                intake_key=key,
                visit=visit,
                actor=worker,
            )
        created += 1
        category = case.category
        if event.stop == "received" or category is None:
            continue
        with clock.frozen(at + timedelta(hours=1)):
            do_register(case, category=category, actor=leader)
        # A category that must be handled higher up left the community desk: the county walks it on.
        if event.stop == "registered" or case.level != Level.COMMUNITY:
            continue
        handler = handler or _committee_handler(ctx, unit)
        with clock.frozen(at + timedelta(hours=2)):
            do_dispatch(case, lead=unit, actor=leader)
        with clock.frozen(at + timedelta(hours=5)):
            do_accept(case, actor=handler)
        if event.stop == "handling":
            continue
        with clock.frozen(at + timedelta(days=min(2.0, event.days_ago / 2))):
            do_reply(case, reply=event.reply, actor=handler)
        if event.stop == "resolved" and case.status == "replied":
            with clock.frozen(at + timedelta(days=min(3.0, event.days_ago * 0.75))):
                do_verify(case, passed=True, note="现场复查属实。", actor=worker)
    if created:
        ctx.say(f"    field events: {created} reported by {PERSONA_WORKER}")
