"""Demo step: the service catalogue of a 街道便民服务中心 in 长沙市天心区, the centres' public details, and about
thirty visits over the last two months at the street centres, walked through their statuses by the centres'
window clerks under a frozen clock. Idempotent: items are keyed by code, centre details by unit, and visits
are only added while the district's centres have none.

The items, materials, limits and legal bases are a plausible catalogue for illustration, modelled on the
published 便民服务事项清单 of Hunan streets; they are data to be replaced by the real local list.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from civicgrid.accounts.models import Role, RoleGrant, User
from civicgrid.cases.models import HandlingClass
from civicgrid.demo.context import DemoContext, mobile_number, person_name
from civicgrid.jurisdictions.models import Jurisdiction, Level, Unit, UnitType
from civicgrid.lib import clock
from civicgrid.services import actions
from civicgrid.services.models import (
    LimitUnit,
    MaterialForm,
    Outcome,
    RequiredMaterial,
    ServiceCenterProfile,
    ServiceItem,
    VisitStatus,
    WindowVisit,
)
from civicgrid.workcalendar.calendar import current_calendar

ORIG, COPY, BOTH = MaterialForm.ORIGINAL, MaterialForm.COPY, MaterialForm.ORIGINAL_AND_COPY
INSTANT, PROMISED, JOINT, ESCALATED = (
    HandlingClass.INSTANT,
    HandlingClass.PROMISED,
    HandlingClass.JOINT,
    HandlingClass.ESCALATED,
)
WD, ND = LimitUnit.WORK_DAY, LimitUnit.NATURAL_DAY
TOWNSHIP, COUNTY = Level.TOWNSHIP, Level.COUNTY
CENTER_TYPE = "service_center"  # the demo's unit type of the 便民服务中心 (civicgrid.jurisdictions.demo)

# (name, form, copies, required, notes)
Material = tuple[str, str, int, bool, str]
ID_CARD: Material = ("申请人居民身份证", BOTH, 1, True, "")
HUKOU: Material = ("户口簿", BOTH, 1, True, "户主页及本人页")
BANK: Material = ("本人银行卡或存折", COPY, 1, True, "用于补贴发放，须为本人账户")
AGENT: Material = ("代办人居民身份证及委托书", BOTH, 1, False, "委托他人代办时提供")


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    description: str
    handling_class: str
    legal: int
    promised: int
    unit: str
    unit_type: str
    level: str
    fee: str
    basis: str
    materials: tuple[Material, ...]


ITEMS: tuple[ItemSpec, ...] = (
    ItemSpec(
        "GA-001",
        "居住证办理（首次申领）",
        "在本街道居住半年以上、有合法稳定就业、稳定住所或连续就读的非本市户籍人员申领居住证。",
        PROMISED,
        15,
        10,
        ND,
        "police",
        TOWNSHIP,
        "",
        "《居住证暂行条例》（国务院令第663号）",
        (
            ID_CARD,
            (
                "居住地住址证明（房屋租赁合同或房屋产权证明）",
                BOTH,
                1,
                True,
                "租住的须提供经登记备案的租赁合同",
            ),
            ("就业、就读证明之一（劳动合同、营业执照或学校在读证明）", BOTH, 1, True, ""),
            ("近期免冠一寸白底彩色照片", ORIG, 2, True, "窗口可现场采集"),
            ("居住证申领登记表", ORIG, 1, True, "窗口领取，现场填写"),
        ),
    ),
    ItemSpec(
        "GA-002",
        "户籍证明开具",
        "为本辖区户籍居民开具户籍、亲属关系等证明。",
        INSTANT,
        0,
        0,
        WD,
        "police",
        TOWNSHIP,
        "",
        "《中华人民共和国户口登记条例》",
        (ID_CARD, HUKOU, ("用途说明材料（如单位或学校的证明需求函）", ORIG, 1, False, "")),
    ),
    ItemSpec(
        "YB-001",
        "城乡居民基本医疗保险参保登记",
        "未参加职工医保的本辖区居民（含新生儿、在校学生、持居住证人员）办理城乡居民医保参保登记。",
        INSTANT,
        0,
        0,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "按当年度个人缴费标准缴纳，窗口不收取其他费用",
        "《中华人民共和国社会保险法》",
        (
            ("参保人居民身份证或户口簿", ORIG, 1, True, "新生儿提供户口簿"),
            ("出生医学证明", BOTH, 1, False, "新生儿参保时提供"),
            ("居住证", BOTH, 1, False, "非本市户籍人员提供"),
        ),
    ),
    ItemSpec(
        "RS-001",
        "城乡居民基本养老保险参保登记",
        "年满16周岁（不含在校学生）、未参加职工养老保险的本辖区户籍居民办理参保登记。",
        INSTANT,
        0,
        0,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "",
        "《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）",
        (ID_CARD, HUKOU, ("城乡居民基本养老保险参保登记表", ORIG, 1, True, "窗口领取")),
    ),
    ItemSpec(
        "RS-002",
        "灵活就业人员登记",
        "以个体、非全日制等形式灵活就业的人员办理就业登记，作为享受社保补贴的依据。",
        INSTANT,
        0,
        0,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "",
        "《中华人民共和国就业促进法》；《就业服务与就业管理规定》",
        (
            ID_CARD,
            ("《就业创业证》", ORIG, 1, False, "已申领的提供"),
            ("灵活就业情况说明（从业项目、地点）", ORIG, 1, True, "窗口提供样表"),
        ),
    ),
    ItemSpec(
        "RS-003",
        "失业登记",
        "法定劳动年龄内、有劳动能力和就业要求、处于无业状态的人员办理失业登记。",
        INSTANT,
        0,
        0,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "",
        "《中华人民共和国就业促进法》；《就业服务与就业管理规定》",
        (
            ID_CARD,
            ("解除或终止劳动关系证明", ORIG, 1, False, "原有工作单位的提供"),
            ("《就业创业证》", ORIG, 1, False, "已申领的提供"),
        ),
    ),
    ItemSpec(
        "RS-004",
        "《就业创业证》申领",
        "劳动年龄内的城乡劳动者申领《就业创业证》。",
        PROMISED,
        5,
        3,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "",
        "《就业服务与就业管理规定》",
        (
            ID_CARD,
            ("近期免冠一寸彩色照片", ORIG, 1, True, ""),
            ("毕业证书", BOTH, 1, False, "高校毕业生提供"),
        ),
    ),
    ItemSpec(
        "MZ-001",
        "高龄津贴申请",
        "具有本市户籍、年满80周岁的老年人申请高龄津贴，街道受理初审后报区民政局审批。",
        ESCALATED,
        20,
        15,
        WD,
        "mz",
        COUNTY,
        "",
        "《中华人民共和国老年人权益保障法》",
        (ID_CARD, HUKOU, BANK, ("高龄津贴申请审批表", ORIG, 2, True, "窗口领取"), AGENT),
    ),
    ItemSpec(
        "MZ-002",
        "残疾人两项补贴申请（困难残疾人生活补贴、重度残疾人护理补贴）",
        "持第二代残疾人证的困难残疾人、重度残疾人申请生活补贴或护理补贴，街道审核后报区民政局审批。",
        ESCALATED,
        20,
        15,
        WD,
        "mz",
        COUNTY,
        "",
        "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        (
            ID_CARD,
            HUKOU,
            ("第二代中华人民共和国残疾人证", BOTH, 1, True, ""),
            ("最低生活保障证或特困人员证明", BOTH, 1, False, "申请生活补贴时提供"),
            BANK,
            ("残疾人两项补贴申请审批表", ORIG, 1, True, "窗口领取"),
            AGENT,
        ),
    ),
    ItemSpec(
        "MZ-003",
        "最低生活保障申请",
        "共同生活的家庭成员人均收入低于当地低保标准且财产符合规定的家庭申请最低生活保障。",
        JOINT,
        30,
        20,
        WD,
        "mz",
        COUNTY,
        "",
        "《社会救助暂行办法》（国务院令第649号）",
        (
            ("最低生活保障申请书", ORIG, 1, True, "户主签名"),
            ("家庭成员居民身份证及户口簿", BOTH, 1, True, ""),
            ("家庭收入及财产状况申报表", ORIG, 1, True, ""),
            ("家庭经济状况核对授权书", ORIG, 1, True, "全体成年家庭成员签名"),
            ("残疾人证、病历等证明材料", COPY, 1, False, "家庭成员有残疾或重病的提供"),
            ("离婚证及离婚协议或判决书", COPY, 1, False, "离异的提供"),
        ),
    ),
    ItemSpec(
        "MZ-004",
        "临时救助申请",
        "因火灾、交通事故、突发重大疾病等导致基本生活暂时出现严重困难的家庭或个人申请临时救助。",
        PROMISED,
        10,
        5,
        WD,
        "township_office",
        TOWNSHIP,
        "",
        "《社会救助暂行办法》（国务院令第649号）",
        (
            ("临时救助申请书", ORIG, 1, True, "写明困难原因"),
            ID_CARD,
            HUKOU,
            ("致困原因证明（医疗费用票据、事故证明等）", COPY, 1, True, ""),
            BANK,
        ),
    ),
    ItemSpec(
        "MZ-005",
        "特困人员救助供养申请",
        "无劳动能力、无生活来源且无法定赡养抚养扶养义务人（或其无履行能力）的老年人、残疾人和未成年人申请特困供养。",
        ESCALATED,
        30,
        20,
        WD,
        "mz",
        COUNTY,
        "",
        "《社会救助暂行办法》（国务院令第649号）",
        (
            ("特困人员救助供养申请书", ORIG, 1, True, ""),
            ID_CARD,
            HUKOU,
            ("残疾人证或劳动能力鉴定材料", COPY, 1, False, "因残疾申请的提供"),
            ("家庭经济状况核对授权书", ORIG, 1, True, ""),
        ),
    ),
    ItemSpec(
        "MZ-006",
        "老年人优待证办理",
        "年满60周岁的本市户籍及常住老年人办理老年人优待证，凭证享受公共交通、景区等优待。",
        ESCALATED,
        10,
        5,
        WD,
        "mz",
        COUNTY,
        "",
        "《中华人民共和国老年人权益保障法》",
        (
            ID_CARD,
            ("近期免冠一寸彩色照片", ORIG, 1, True, ""),
            ("居住证", BOTH, 1, False, "非本市户籍常住老年人提供"),
        ),
    ),
    ItemSpec(
        "MZ-007",
        "孤儿和事实无人抚养儿童基本生活费申请",
        "为孤儿和事实无人抚养儿童申请基本生活保障，街道审核后报区民政局审批。",
        ESCALATED,
        30,
        20,
        WD,
        "mz",
        COUNTY,
        "",
        "《国务院办公厅关于加强孤儿保障工作的意见》（国办发〔2010〕54号）",
        (
            ("儿童居民身份证或户口簿", BOTH, 1, True, ""),
            ("父母死亡、失踪、服刑等情况证明", COPY, 1, True, ""),
            ("监护人居民身份证", BOTH, 1, True, ""),
            BANK,
        ),
    ),
    ItemSpec(
        "WJ-001",
        "生育登记",
        "在本辖区居住的夫妻办理生育登记（一孩、二孩、三孩），登记后可享受相关生育服务。",
        INSTANT,
        0,
        0,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "",
        "《中华人民共和国人口与计划生育法》；《湖南省人口与计划生育条例》",
        (
            ("夫妻双方居民身份证", BOTH, 1, True, ""),
            ("结婚证", BOTH, 1, True, ""),
            ("户口簿或居住证", COPY, 1, True, ""),
        ),
    ),
    ItemSpec(
        "WJ-002",
        "独生子女父母奖励申请",
        "领取《独生子女父母光荣证》的本辖区户籍夫妻申请独生子女父母奖励。",
        ESCALATED,
        20,
        10,
        WD,
        "wj",
        COUNTY,
        "",
        "《中华人民共和国人口与计划生育法》；《湖南省人口与计划生育条例》",
        (
            ID_CARD,
            ("《独生子女父母光荣证》", BOTH, 1, True, ""),
            ("结婚证或离婚证", COPY, 1, True, ""),
            BANK,
        ),
    ),
    ItemSpec(
        "ZJ-001",
        "公共租赁住房申请",
        "住房困难的城镇中等偏下收入家庭、新就业无房职工和在本市稳定就业的外来务工人员申请公共租赁住房，"
        "街道初审、区住建局和区民政局联合审核。",
        JOINT,
        30,
        20,
        WD,
        "zj",
        COUNTY,
        "",
        "《公共租赁住房管理办法》（住房和城乡建设部令第11号）",
        (
            ("公共租赁住房申请表", ORIG, 1, True, "窗口领取"),
            ("家庭成员居民身份证及户口簿", BOTH, 1, True, ""),
            ("婚姻状况证明（结婚证、离婚证或未婚声明）", COPY, 1, True, ""),
            ("家庭收入证明", ORIG, 1, True, "所在单位出具或个人申报"),
            ("现住房情况证明（租赁合同等）", COPY, 1, True, ""),
            ("劳动合同及社保缴纳证明", COPY, 1, False, "外来务工人员提供"),
        ),
    ),
    ItemSpec(
        "JD-001",
        "城乡居民基本医疗保险门诊慢特病待遇申请受理",
        "参加城乡居民医保的慢性病、特殊疾病患者申请门诊慢特病待遇，街道受理后转医保经办机构认定。",
        PROMISED,
        20,
        15,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "",
        "《中华人民共和国社会保险法》",
        (
            ("参保人居民身份证或社保卡", BOTH, 1, True, ""),
            ("二级及以上医院出具的诊断证明", ORIG, 1, True, ""),
            ("近期病历及相关检查报告", COPY, 1, True, ""),
        ),
    ),
    ItemSpec(
        "JD-002",
        "居民信息变更及证明事项咨询",
        "居民身份、住址、联系方式等信息变更的咨询和材料预审。",
        INSTANT,
        0,
        0,
        WD,
        CENTER_TYPE,
        TOWNSHIP,
        "",
        "",
        (ID_CARD,),
    ),
)


def load(ctx: DemoContext) -> None:
    items = load_items()
    county = Jurisdiction.objects.get(code=ctx.county_code)
    centers = list(
        Unit.objects.filter(
            unit_type__code=CENTER_TYPE, is_active=True, jurisdiction__path__startswith=county.path
        )
        .select_related("jurisdiction")
        .order_by("jurisdiction__path", "code")
    )
    profiles = load_profiles(ctx, centers)
    visits = _load_visits(ctx, centers, items)
    ctx.say(f"    {len(items)} service items, {profiles} centre details added, {visits} visits added")


def load_items() -> dict[str, ServiceItem]:
    """The catalogue, by code. An existing item is left as it is (an operator may have edited it)."""
    types = {t.code: t for t in UnitType.objects.all()}
    existing = {i.code: i for i in ServiceItem.objects.all()}
    items: dict[str, ServiceItem] = {}
    for order, spec in enumerate(ITEMS, start=1):
        item = existing.get(spec.code)
        if item is None:
            item = actions.do_save_service_item(
                ServiceItem(
                    code=spec.code,
                    name=spec.name,
                    description=spec.description,
                    handling_class=spec.handling_class,
                    legal_limit_value=spec.legal,
                    promised_limit_value=spec.promised,
                    limit_unit=spec.unit,
                    unit_type=types.get(spec.unit_type),
                    level=spec.level,
                    fee=spec.fee,
                    basis=spec.basis,
                    order=order * 10,
                ),
                actor=None,
            )
            for n, (name, form, copies, required, notes) in enumerate(spec.materials, start=1):
                actions.do_save_required_material(
                    RequiredMaterial(
                        item=item,
                        name=name,
                        form=form,
                        copies=copies,
                        required=required,
                        notes=notes,
                        order=n * 10,
                    ),
                    actor=None,
                )
        items[spec.code] = item
    return items


def load_profiles(ctx: DemoContext, centers: list[Unit]) -> int:
    """Public details of each street centre (invented but plausible: the hall of the street office)."""
    have = set(ServiceCenterProfile.objects.filter(unit__in=centers).values_list("unit_id", flat=True))
    added = 0
    for center in centers:
        if center.pk in have:
            continue
        rng = ctx.rng("center-phone", center.code)
        actions.do_save_service_center_profile(
            ServiceCenterProfile(
                unit=center,
                address=f"长沙市天心区{center.jurisdiction.name}办事处一楼便民服务大厅",
                phone="0731-8" + "".join(str(rng.randrange(10)) for _ in range(7)),
                opening_hours="周一至周五 8:30—12:00，14:30—17:30（法定节假日除外）",
                collection_point=f"{center.name}综合受理窗口",
            ),
            actor=None,
        )
        added += 1
    return added


# --- Visits -------------------------------------------------------------------------------------------------

VISITS = 30
# Outcomes in a fixed cycle, so every outcome occurs whatever the seed: about half accepted, a quarter
# one-time notices, some done on the spot, a few refused.
OUTCOMES = (
    Outcome.ACCEPTED,
    Outcome.NOTICE,
    Outcome.ACCEPTED,
    Outcome.INSTANT,
    Outcome.ACCEPTED,
    Outcome.NOTICE,
    Outcome.ACCEPTED,
    Outcome.REFUSED,
    Outcome.ACCEPTED,
    Outcome.INSTANT,
    Outcome.ACCEPTED,
    Outcome.NOTICE,
)
DAYS_BACK = 60
# The persona's centre (坡子街, pzj_window) gets most visits, so its desk shows a working history.
PERSONA_CENTER = "430103002-service_center"


def _clerk(center: Unit) -> User | None:
    # The few grants of the unit, chosen here: "ORDER BY username LIMIT 1" lets PostgreSQL walk the whole
    # user table by name when the tables were filled in the same transaction (no statistics yet).
    grants = RoleGrant.objects.filter(role=Role.WINDOW_CLERK, unit=center, user__is_active=True)
    grant = min(grants.select_related("user"), key=lambda g: g.user.username, default=None)
    return grant.user if grant else None


def _id_number(rng: random.Random, county_code: str) -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 60))
    body = f"{county_code}{born:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def _office_time(rng: random.Random, day: date) -> datetime:
    minutes = rng.choice(
        [rng.randrange(8 * 60 + 35, 11 * 60 + 50), rng.randrange(14 * 60 + 35, 17 * 60 + 20)]
    )
    return timezone.make_aware(datetime.combine(day, time(minutes // 60, minutes % 60)))


def _plan(ctx: DemoContext, centers: list[Unit], today: date) -> list[tuple[datetime, Unit, int]]:
    """(registration time, centre, visit index), in time order: working days of the last two months."""
    cal = current_calendar()
    others = [c for c in centers if c.code != PERSONA_CENTER][:3]
    persona = [c for c in centers if c.code == PERSONA_CENTER]
    plan: list[tuple[datetime, Unit, int]] = []
    for i in range(VISITS):
        rng = ctx.rng("visit", i)
        center = (persona or others)[0] if (i % 5 < 3 or not others) else others[i % len(others)]
        # A third of the visits in the last ten days, so some promises are still running.
        back = rng.randrange(0, 10) if i % 3 == 0 else rng.randrange(10, DAYS_BACK)
        day = today - timedelta(days=back)
        while not cal.is_working_day(day):
            day -= timedelta(days=1)
        at = _office_time(rng, day)
        if at >= clock.now():  # later today: make it earlier today instead
            at = clock.now() - timedelta(minutes=20 + i)
        plan.append((at, center, i))
    return sorted(plan, key=lambda row: row[0])


def _load_visits(ctx: DemoContext, centers: list[Unit], items: dict[str, ServiceItem]) -> int:
    if not centers or WindowVisit.objects.filter(service_center__in=centers).exists():
        return 0
    now = clock.now()
    catalogue = list(ServiceItem.objects.filter(code__in=list(items)).prefetch_related("materials"))
    instant = [i for i in catalogue if i.handling_class == HandlingClass.INSTANT]
    promised = [i for i in catalogue if i.handling_class != HandlingClass.INSTANT]
    clerks = {c.pk: _clerk(c) for c in centers}
    keep = {"waiting": 1, "overdue": 1}
    added = 0
    for at, center, i in _plan(ctx, centers, timezone.localdate(now)):
        rng = ctx.rng("visit-details", i)
        outcome = OUTCOMES[i % len(OUTCOMES)]
        pool = instant if outcome == Outcome.INSTANT else promised
        item = rng.choice(pool or catalogue)
        materials = list(item.materials.all())
        required = [m for m in materials if m.required]
        if outcome == Outcome.NOTICE and not required:
            outcome = Outcome.ACCEPTED
        received = {m.pk for m in required} | {
            m.pk for m in materials if not m.required and rng.random() < 0.4
        }
        if outcome == Outcome.NOTICE:
            for m in rng.sample(required, k=min(len(required), rng.choice([1, 1, 2]))):
                received.discard(m.pk)
        if outcome in (Outcome.ACCEPTED, Outcome.NOTICE) and item.handling_class == HandlingClass.INSTANT:
            outcome = Outcome.INSTANT
        clerk = clerks.get(center.pk)
        with clock.frozen(at):
            visit = actions.do_register_visit(
                item=item,
                service_center=center,
                applicant_name=person_name(rng),
                applicant_phone=mobile_number(rng),
                id_number=_id_number(rng, ctx.county_code) if rng.random() < 0.5 else "",
                received=sorted(received),
                outcome=outcome,
                refusal_reason=(
                    "经核实，申请人户籍及居住地均不在本街道，不符合本事项受理条件，已告知其向户籍所在地街道申请。"
                    if outcome == Outcome.REFUSED
                    else ""
                ),
                actor=clerk,
            )
        added += 1
        _walk(visit, rng, now, clerk, keep)
    return added


def _walk(
    visit: WindowVisit, rng: random.Random, now: datetime, clerk: User | None, keep: dict[str, int]
) -> None:
    """Move a visit on as a centre would: handling starts within a day, most finish before the promise (a
    few a little late), most results are collected within a week. ``keep`` counts the visits still to be
    left behind on purpose: one recent visit not started yet, one in progress past its promise."""
    if visit.status != VisitStatus.REGISTERED or visit.promised_due_at is None:
        if visit.status == VisitStatus.DONE and rng.random() < 0.8:
            _at(visit.registered_at + timedelta(minutes=5), now, actions.do_mark_collected, visit, clerk)
        return
    if keep["waiting"] and now - visit.registered_at < timedelta(days=3):
        keep["waiting"] -= 1
        return
    start = visit.registered_at + timedelta(hours=rng.randrange(2, 20))
    if not _at(start, now, actions.do_start_visit, visit, clerk):
        return
    if keep["overdue"] and visit.promised_due_at < now:
        keep["overdue"] -= 1
        return
    span = visit.promised_due_at - visit.registered_at
    share = rng.choice([0.3, 0.5, 0.7, 0.9, 0.95, 1.15])  # 1.15: finished a little late
    done_at = visit.registered_at + span * share
    if not _at(done_at, now, actions.do_complete_visit, visit, clerk, note="已办结，已电话通知申请人领取。"):
        return
    if rng.random() < 0.75:
        _at(done_at + timedelta(days=rng.randrange(1, 7)), now, actions.do_mark_collected, visit, clerk)


def _at(
    when: datetime,
    now: datetime,
    step: Callable[..., WindowVisit],
    visit: WindowVisit,
    clerk: User | None,
    note: str = "",
) -> bool:
    """Run ``step`` at ``when`` if that is in the past; False when it is still to come."""
    if when >= now:
        return False
    with clock.frozen(when):
        step(visit, note=note, actor=clerk)
    return True
