"""The data of bench/open311.py: a catalogue made through the actions, then many cases in set-based SQL.

``build_catalogue`` runs inside Django after ``intake.setup_civicgrid`` (migrate + the demo geography):
the demo's units and its three-level category taxonomy (``civicgrid.cases.demo``), an Open311 endpoint for
the city and a client key, all through the actions. ``generate`` then writes the cases straight into
PostgreSQL with INSERT … SELECT over generate_series — per-row actions would take days for a million
cases — with the secondary indexes dropped during the load and rebuilt after it, then VACUUM ANALYZE.

What the generated rows look like (seeded: the same seed gives the same rows, relative to the load time):
- received_at uniform over the last DAYS days (730: a 90-day window holds about 12 % of the cases);
- the share of open cases falls with age (OPEN_SHARE: most recent cases are open, 3 % of old ones), about
  5 % overall; open cases spread over the open states, closed ones mostly revisited or archived;
- categories: the taxonomy's leaves in a seeded order, drawn with Zipf weights (exponent ZIPF_S), so a few
  services carry most cases and most services few; the lead unit is the county unit of the category's
  unit type (权责清单), 15 % of them handled by a township office instead;
- the place: seeded points inside the demo's grid cells, each case taking one point's cell, community
  (origin) and coordinates; some cases carry only an address;
- title, description (100–200 characters of Chinese), reply (for replied cases), resident names from
  fixed pools; the phone is one real encrypted value (the list never reads it; its width is realistic);
- a handling clock for every case that reached dispatch (stopped at the reply, running or paused for the
  open ones): the only clock stage GET requests reads; the event history (create, register, dispatch,
  accept, reply, verify, revisit, archive … as the status implies) that ``extensions=true`` reads;
- an Open311 record (ServiceRequest) for the cases whose channel is open311.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GENERATOR = "open311-data-v2"  # changes when the generated rows change: a kept database is then rebuilt
DAYS = 730
ZIPF_S = 1.1
N_PLACES = 20_000
N_TEXTS = 400
# P(open) by age in days: (younger than, share open); older cases: the last share.
OPEN_SHARE = [(7, 0.60), (30, 0.30), (90, 0.10), (None, 0.03)]
OPEN_STATES = [
    ("received", 0.10),
    ("confirming", 0.03),
    ("registered", 0.10),
    ("dispatched", 0.12),
    ("return_requested", 0.02),
    ("handling", 0.45),
    ("waiting", 0.03),
    ("suspended", 0.02),
    ("replied", 0.13),
]
CLOSED_STATES = [
    ("revisited", 0.58),
    ("archived", 0.25),
    ("resolved", 0.03),
    ("direct_answered", 0.07),
    ("void", 0.03),
    ("merged", 0.01),
    ("split", 0.005),
    ("withdrawn", 0.025),
]
CHANNELS = [
    ("hotline", 0.60),
    ("web", 0.12),
    ("app", 0.10),
    ("grid", 0.08),
    ("window", 0.04),
    ("open311", 0.03),
    ("letter", 0.015),
    ("visit", 0.015),
]
NATURES = [
    ("help", 0.40),
    ("complaint", 0.30),
    ("consult", 0.15),
    ("suggestion", 0.08),
    ("report", 0.05),  # 举报: never published
    ("praise", 0.02),
]
HANDLING = [("promised", 0.80), ("instant", 0.15), ("joint", 0.04), ("escalated", 0.01)]
URGENCY = [("normal", 0.95), ("urgent", 0.04), ("critical", 0.01)]

# Each status's history: (event code, status after it, time slot). Slots are the case's moments:
# 1 received, 2 registered, 3 dispatched, 4 accepted, 5 replied, 6 verified, 7 revisited, 8 archived.
_THROUGH_ACCEPT = [
    ("create", "received", 1),
    ("register", "registered", 2),
    ("dispatch", "dispatched", 3),
    ("accept", "handling", 4),
]
_THROUGH_REVISIT = [
    *_THROUGH_ACCEPT,
    ("reply", "replied", 5),
    ("verify", "resolved", 6),
    ("revisit", "revisited", 7),
]
HISTORIES: dict[str, list[tuple[str, str, int]]] = {
    "received": [("create", "received", 1)],
    "confirming": [("create", "received", 1), ("request_confirmation", "confirming", 2)],
    "registered": _THROUGH_ACCEPT[:2],
    "dispatched": _THROUGH_ACCEPT[:3],
    "return_requested": [*_THROUGH_ACCEPT, ("request_return", "return_requested", 5)],
    "handling": _THROUGH_ACCEPT,
    "waiting": [*_THROUGH_ACCEPT, ("await_resident", "waiting", 5)],
    "suspended": [*_THROUGH_ACCEPT, ("suspend", "suspended", 5)],
    "replied": _THROUGH_REVISIT[:5],
    "resolved": _THROUGH_REVISIT[:6],
    "revisited": _THROUGH_REVISIT,
    "archived": [*_THROUGH_REVISIT, ("archive", "archived", 8)],
    "direct_answered": [("create", "received", 1), ("answer_directly", "direct_answered", 2)],
    "void": [("create", "received", 1), ("void", "void", 2)],
    "merged": [("create", "received", 1), ("merge", "merged", 2)],
    "split": [("create", "received", 1), ("register", "registered", 2), ("split", "split", 3)],
    "withdrawn": [("create", "received", 1), ("register", "registered", 2), ("withdraw", "withdrawn", 3)],
}
# When the case was closed (the slot), for the statuses that are closed.
CLOSED_SLOT = {
    "resolved": 6,
    "revisited": 6,
    "archived": 6,
    "direct_answered": 2,
    "void": 2,
    "merged": 2,
    "split": 3,
    "withdrawn": 3,
}
HANDLE_STOPPED = {"replied", "resolved", "revisited", "archived"}  # the reply stopped the handling clock
HANDLE_PAUSED = {"waiting", "suspended"}
HANDLE_RUNNING = {"dispatched", "handling", "return_requested"}

# --- Text pools -------------------------------------------------------------------------------------------

PLACES = [
    "小区东门外的人行道上",
    "菜市场北侧路口",
    "学校门口的公交站旁",
    "单元楼下的绿化带里",
    "地铁站2号出口附近",
    "老旧小区3栋后面的巷子里",
    "商业步行街中段",
    "社区卫生服务站对面",
    "农贸市场南门",
    "高架桥下的辅道上",
    "幼儿园围墙外",
    "公园西门停车场",
]
ROADS = [
    "劳动西路",
    "芙蓉中路",
    "书院路",
    "黄兴南路",
    "坡子街",
    "解放西路",
    "城南西路",
    "白沙路",
    "天心路",
    "新开铺路",
]
# (title, what is wrong, a detail of it, how the fix is reported)
PROBLEMS = [
    (
        "路灯不亮",
        "有三盏路灯连续一周晚上不亮，整段路漆黑一片",
        "灯杆上的编号已经看不清",
        "更换了损坏的灯具和线路",
    ),
    (
        "路面坑洞",
        "路面出现一个直径约一米的坑洞，下雨后积满了水",
        "已经有电动车在这里摔倒",
        "对坑洞进行了修补",
    ),
    (
        "夜间施工噪音",
        "附近工地每天晚上十点以后还在施工，机器轰鸣声很大",
        "严重影响休息，孩子第二天还要上学",
        "责令工地停止夜间施工",
    ),
    (
        "垃圾清运不及时",
        "垃圾桶已经满溢好几天没人清运，气味难闻还招苍蝇",
        "天气热了味道越来越大",
        "安排环卫车辆完成清运",
    ),
    (
        "占道经营",
        "有流动摊贩长期占用人行道摆摊，行人只能走机动车道",
        "早晚高峰时段尤其拥堵",
        "劝离了占道摊贩并加强巡查",
    ),
    (
        "违章搭建",
        "一楼住户私自在公共绿地上搭建铁皮棚，占用了消防通道",
        "已经向物业反映过多次",
        "下达了限期拆除通知书",
    ),
    (
        "小区停水",
        "从昨天早上开始整栋楼停水，物业没有提前通知",
        "家里有老人做饭洗漱都很困难",
        "协调供水公司恢复了供水",
    ),
    (
        "餐馆油烟扰民",
        "楼下餐馆的排烟管道直对住宅窗户，油烟很大",
        "夏天根本不敢开窗",
        "督促餐馆加装了油烟净化设备",
    ),
    (
        "井盖缺失",
        "一个下水道井盖丢失，只用几根树枝挡着，非常危险",
        "晚上路过的人根本看不见",
        "补装了新的井盖",
    ),
    (
        "行道树倒伏",
        "大风过后一棵行道树倒在路边，压住了部分车道",
        "树枝还挂在电线上",
        "清理了倒伏树木并修剪了周边树枝",
    ),
    (
        "物业服务差",
        "物业公司长期不打扫楼道，电梯经常故障也不及时维修",
        "业主多次投诉都没有改善",
        "约谈了物业公司负责人并督促整改",
    ),
    (
        "车辆乱停放",
        "很多车辆长期停在小区出入口，救护车和消防车都进不来",
        "高峰时段出入非常困难",
        "施划了禁停标线并加强执法",
    ),
    ("路口积水", "每逢下雨路口就大面积积水，水深没过脚踝", "雨水井好像被堵住了", "疏通了雨水管道"),
    (
        "拖欠工资",
        "在附近工地干活三个多月，包工头一直拖欠工资不发",
        "一共有十几个工友都没有拿到钱",
        "协调施工单位支付了拖欠的工资",
    ),
    (
        "社保缴费咨询",
        "想咨询灵活就业人员如何在网上缴纳社保，以及缴费基数怎么选择",
        "在网上找了很多说法都不一样",
        "电话告知了办理流程和所需材料",
    ),
    (
        "公交站牌损坏",
        "公交站的站牌被车撞坏，玻璃碎片散落一地",
        "等车的乘客很容易被划伤",
        "修复了站牌并清理了碎玻璃",
    ),
]
DETAILS = [
    "这种情况已经持续了一个多星期",
    "之前也打电话反映过但一直没有人处理",
    "附近住了很多老人和小孩",
    "晚上出行很不安全",
    "雨天路面湿滑容易摔倒",
    "周边居民意见很大",
    "物业说这件事不归他们管",
    "社区工作人员来看过一次就没有下文了",
]
REQUESTS = [
    "希望有关部门尽快安排人员处理",
    "请尽快派人到现场核实并处理，处理后回电告知",
    "希望相关部门加强管理，杜绝此类情况再次发生",
    "请给一个明确的处理时间",
    "麻烦尽快解决，谢谢",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华红建文辉力玲慧丹凤鹏斌宇浩凯晨波旭琳雪梅海燕亮婷"


def texts(seed: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """Seeded pools: titles and descriptions (same index: the same problem), replies, resident names."""
    rng = random.Random(seed)
    titles, descriptions, replies = [], [], []
    for _ in range(N_TEXTS):
        title, problem, detail, fix = rng.choice(PROBLEMS)
        road = rng.choice(ROADS)
        extra = "，".join(rng.sample(DETAILS, rng.randint(1, 4)))
        text = (
            f"市民来电反映：{road}{rng.randint(1, 399)}号{rng.choice(PLACES)}{problem}，{detail}。{extra}。"
            f"{rng.choice(REQUESTS)}。"
        )
        # 100 to 200 characters: a caller often adds a sentence or two.
        while len(text) < rng.randint(100, 190):
            text += f"来电人补充说{rng.choice(DETAILS)}，{rng.choice(REQUESTS)}。"
        titles.append(f"{road}{title}")
        descriptions.append(text[:200])
        replies.append(
            f"您好，关于您反映的{road}{title}问题，经承办单位现场核查，已于{rng.randint(1, 15)}日内{fix}。"
            f"已电话回复来电人，来电人表示{rng.choice(['满意', '基本满意', '认可处理结果'])}。感谢您对我们工作的支持。"
        )
    names = [rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))) for _ in range(N_TEXTS)]
    return titles, descriptions, replies, names


# --- The catalogue (Django, through the actions) ------------------------------------------------------------


@dataclass
class Catalogue:
    city_code: str  # = the endpoint's jurisdiction_id
    county_id: int
    county_path: str
    endpoint_id: int
    api_key_id: int
    leaves: list[tuple[int, str, int]]  # (category id, code, lead unit id), most common first
    township_units: dict[int, int]  # township jurisdiction id → its township office unit id
    places: list[
        tuple[float, float, int, int, str, int]
    ]  # lon, lat, cell id, community id, its path, township id
    place_names: list[str]  # community name per place
    phone_ciphertext: str


def build_catalogue(points: list[list[float]], seed: int) -> Catalogue:
    """Units, categories, the endpoint and a key (idempotent: a second run creates nothing), and the places
    the cases are drawn from."""
    import numpy as np
    from django.conf import settings
    from django.db import transaction

    from civicgrid.cases.categories import do_import_categories
    from civicgrid.cases.demo_staff import CATEGORY_UNIT_TYPES, load_units
    from civicgrid.cases.models import Category
    from civicgrid.core import crypto
    from civicgrid.demo.context import DEMO_COUNTY
    from civicgrid.grids.lookup import grid_index
    from civicgrid.grids.models import GridCell
    from civicgrid.jurisdictions.models import Jurisdiction, Level
    from civicgrid.open311 import actions
    from civicgrid.open311.models import ApiKey, Endpoint

    county = Jurisdiction.objects.get(code=DEMO_COUNTY)
    city = county.parent
    assert city is not None
    with transaction.atomic():
        units = load_units(county)
        do_import_categories(
            settings.SHARED_DATA_DIR / "messages" / "category_taxonomy.csv",
            unit_types=CATEGORY_UNIT_TYPES,
            actor=None,
        )
    endpoint = Endpoint.objects.filter(code=city.code).first() or actions.do_save_endpoint(
        Endpoint(code=city.code, jurisdiction=city, name=f"{city.name} 12345"), actor=None
    )
    key = ApiKey.objects.filter(endpoint=endpoint, name="bench client").first()
    if key is None:
        key, _secret = actions.do_issue_api_key(endpoint, name="bench client", actor=None)

    categories = list(Category.objects.filter(is_active=True).order_by("path"))
    by_id = {c.pk: c for c in categories}
    parents = {c.parent_id for c in categories}
    county_units = {u.unit_type_id: u.pk for u in units.values() if u.jurisdiction_id == county.pk}
    city_units = {u.unit_type_id: u.pk for u in units.values() if u.jurisdiction_id == city.pk}
    fallback = min(county_units.values())

    def lead_unit(category: Category) -> int:
        node: Category | None = category
        while node is not None and node.unit_type_id is None:
            node = by_id.get(node.parent_id) if node.parent_id else None
        kind = node.unit_type_id if node else None
        return county_units.get(kind) or city_units.get(kind) or fallback  # type: ignore[arg-type]

    leaves = [(c.pk, c.code, lead_unit(c)) for c in categories if c.pk not in parents]
    random.Random(seed).shuffle(leaves)  # the Zipf rank: not the taxonomy's order

    township_units = {
        u.jurisdiction_id: u.pk
        for u in units.values()
        if u.jurisdiction.level == Level.TOWNSHIP and u.unit_type.code == "township_office"
    }
    index = grid_index()
    sample = np.array(points[:N_PLACES], dtype=np.float64)
    cell_ids = index.locate_many(sample[:, 0], sample[:, 1])
    cells = {
        c.pk: c
        for c in GridCell.objects.select_related("community", "community__parent").filter(
            pk__in=sorted({int(i) for i in cell_ids if i >= 0})
        )
    }
    places, names = [], []
    for (lon, lat), cell_id in zip(sample.tolist(), cell_ids.tolist(), strict=True):
        cell = cells.get(cell_id)
        if cell is None:
            continue
        community = cell.community
        township = community.parent
        assert township is not None
        places.append((round(lon, 6), round(lat, 6), cell.pk, community.pk, community.path, township.pk))
        names.append(community.name)
    if not places:
        raise SystemExit("no demo grid cell holds any of the points")
    return Catalogue(
        city_code=city.code,
        county_id=county.pk,
        county_path=county.path,
        endpoint_id=endpoint.pk,
        api_key_id=key.pk,
        leaves=leaves,
        township_units=township_units,
        places=places,
        place_names=names,
        phone_ciphertext=crypto.encrypt("13812345678"),
    )


# --- The cases (set-based SQL) -----------------------------------------------------------------------------


def _cumulative(weights: list[float]) -> list[float]:
    """Lower bounds of the buckets for width_bucket(random(), bounds): [0, w1, w1 + w2, …] normalised."""
    total = sum(weights)
    bounds, running = [], 0.0
    for w in weights:
        bounds.append(running / total)
        running += w
    return bounds


def _pick(column: str, choices: list[tuple[str, float]]) -> str:
    """SQL: the value of the bucket a uniform random number in ``column`` falls in."""
    values = "ARRAY[" + ",".join(f"'{v}'" for v, _ in choices) + "]"
    bounds = "ARRAY[" + ",".join(f"{b!r}" for b in _cumulative([w for _, w in choices])) + "]::float8[]"
    return f"({values})[width_bucket({column}, {bounds})]"


def _tables() -> dict[str, str]:
    from civicgrid.cases.models import Case, CaseClock, CaseEvent
    from civicgrid.open311.models import ServiceRequest

    return {
        "case": Case._meta.db_table,
        "clock": CaseClock._meta.db_table,
        "event": CaseEvent._meta.db_table,
        "record": ServiceRequest._meta.db_table,
    }


def _secondary_indexes(cur: Any, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint (those are kept during the load)."""
    rows = cur.execute(
        """SELECT i.relname, pg_get_indexdef(i.oid)
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY i.relname""",
        (table,),
    ).fetchall()
    return [(str(name), str(definition)) for name, definition in rows]


def _check_columns(cur: Any, table: str, given: list[str]) -> None:
    """Every NOT NULL column without a default must be given (Django sets no database defaults)."""
    rows = cur.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
              AND is_identity = 'NO'""",
        (table,),
    ).fetchall()
    missing = sorted({r[0] for r in rows} - set(given))
    if missing:
        raise SystemExit(f"the generator does not fill the NOT NULL columns {missing} of {table}")


CASE_COLUMNS = [
    "id", "number", "kind", "channel", "nature", "category_id", "handling_class", "urgency", "title",
    "description", "address", "lon", "lat", "grid_cell_id", "origin_id", "origin_path", "jurisdiction_id",
    "level", "level_path", "lead_unit_id", "owner_ruled", "reporter_name", "reporter_phone",
    "reporter_phone_digest", "is_anonymous", "needs_revisit", "status", "version", "intake_key",
    "received_at", "registered_at", "dispatched_at", "replied_at", "closed_at", "updated_at", "due_at",
    "due_stage", "timing", "was_overdue", "reply", "is_supervised", "is_forced_close", "urge_count",
    "return_count", "rework_count", "reopen_count", "extension_count", "escalation_count",
]  # fmt: skip
CLOCK_COLUMNS = [
    "case_id", "stage", "seq", "label", "unit", "limit_value", "warn_fraction", "serious_factor",
    "started_at", "deadline_at", "warn_at", "serious_at", "state", "paused_at", "paused_amount",
    "extended_amount", "stopped_at", "timing", "next_fire_at",
]  # fmt: skip
EVENT_COLUMNS = ["case_id", "seq", "code", "actor_id", "at", "from_status", "to_status", "unit_id", "data"]
RECORD_COLUMNS = [
    "case_id", "endpoint_id", "api_key_id", "token", "source", "external_id", "email", "device_id",
    "account_id", "address_id", "zipcode", "media_url", "attributes", "agency", "status_raw", "created_at",
]  # fmt: skip


REACHED_REGISTER = [
    s for s, history in HISTORIES.items() if any(code == "register" for code, _, _ in history)
]
REACHED_DISPATCH = [
    s for s, history in HISTORIES.items() if any(code == "dispatch" for code, _, _ in history)
]
EVENT_DATA = {
    "reply": "jsonb_build_object('reply', x.reply)",
    "answer_directly": "jsonb_build_object('answer', x.reply)",
    "dispatch": """'{"assist": [], "note": ""}'::jsonb""",
    "verify": """'{"passed": true, "note": "现场核查属实，已处理完毕"}'::jsonb""",
    "revisit": """'{"reached": true, "resolution": "resolved", "satisfaction": "satisfied"}'::jsonb""",
    "void": """'{"reason": "不属于受理范围，已告知来电人"}'::jsonb""",
    "withdraw": """'{"reason": "来电人来电撤回"}'::jsonb""",
}


def _in(values: list[str] | set[str] | dict[str, Any]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def _lookup_tables(cur: Any, cat: Catalogue, seed: int) -> None:
    """Small tables the draws index into: categories by Zipf rank, places, text pools (joined, not array
    subscripts: subscripting a long text array walks it element by element)."""
    titles, descriptions, replies, names = texts(seed)
    cur.execute("DROP TABLE IF EXISTS bench_cats, bench_places, bench_texts")
    cur.execute("CREATE UNLOGGED TABLE bench_cats (rank int PRIMARY KEY, category_id bigint, unit_id bigint)")
    cur.execute(
        """CREATE UNLOGGED TABLE bench_places (place int PRIMARY KEY, lon float8, lat float8, cell_id bigint,
               origin_id bigint, origin_path text, township_id bigint, township_path text,
               township_unit bigint, name text)"""
    )
    cur.execute(
        """CREATE UNLOGGED TABLE bench_texts (text int PRIMARY KEY, title text, description text,
               reply text, name text)"""
    )
    with cur.copy("COPY bench_cats FROM STDIN") as copy:
        for rank, (category_id, _code, unit_id) in enumerate(cat.leaves, start=1):
            copy.write_row((rank, category_id, unit_id))
    with cur.copy("COPY bench_places FROM STDIN") as copy:
        for place, ((lon, lat, cell, origin, path, township), name) in enumerate(
            zip(cat.places, cat.place_names, strict=True), start=1
        ):
            township_path = path.rstrip("/").rsplit("/", 1)[0] + "/"
            copy.write_row(
                (
                    place,
                    lon,
                    lat,
                    cell,
                    origin,
                    path,
                    township,
                    township_path,
                    cat.township_units.get(township),
                    name,
                )
            )
    with cur.copy("COPY bench_texts FROM STDIN") as copy:
        for text, row in enumerate(zip(titles, descriptions, replies, names, strict=True), start=1):
            copy.write_row((text, *row))
    cur.execute("ANALYZE bench_cats, bench_places, bench_texts")


def generate(url: str, n: int, seed: int, cat: Catalogue, say: Callable[[str], None]) -> dict[str, float]:
    """Write ``n`` cases with their clocks, events and Open311 records into tables with no cases yet;
    seconds per step."""
    import psycopg

    t = _tables()
    weights = [1.0 / (rank**ZIPF_S) for rank in range(1, len(cat.leaves) + 1)]
    params: dict[str, Any] = {
        "n": n,
        "days": DAYS,
        "cat_bounds": _cumulative(weights),
        "places": len(cat.places),
        "roads": ROADS,
        "county_id": cat.county_id,
        "county_path": cat.county_path,
        "city": cat.city_code,
        "phone": cat.phone_ciphertext,
        "endpoint_id": cat.endpoint_id,
        "api_key_id": cat.api_key_id,
        "seed": (seed % 1_000_000) / 1_000_000,
    }
    open_share = " ".join(f"WHEN age_days < {days} THEN {share}" for days, share in OPEN_SHARE[:-1])
    last_slot = " ".join(
        f"WHEN '{status}' THEN {max(slot for _, _, slot in history)}" for status, history in HISTORIES.items()
    )
    timings: dict[str, float] = {}

    def step(name: str, started: float) -> None:
        timings[name] = time.perf_counter() - started
        say(f"    {name}: {timings[name]:.0f} s")

    def at(slot: str) -> str:
        return f"(g.received_at + g.hours[{slot}] * g.scale * interval '1 hour')"

    # Client-side binding: the statements are run once each, and CREATE TABLE AS takes no bind parameters.
    with psycopg.connect(url, autocommit=True) as conn, psycopg.ClientCursor(conn) as cur:
        for table, columns in (
            (t["case"], CASE_COLUMNS),
            (t["clock"], CLOCK_COLUMNS),
            (t["event"], EVENT_COLUMNS),
            (t["record"], RECORD_COLUMNS),
        ):
            _check_columns(cur, table, columns)
        # One backend, no parallel workers: random() after setseed() gives the same rows every run.
        cur.execute("SET max_parallel_workers_per_gather = 0")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET work_mem = '256MB'")
        # No foreign-key triggers during the load (every key is taken from the tables themselves); only a
        # superuser may, else the triggers run.
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            cur.execute("SET session_replication_role = replica")
        dropped = [
            idx for name in ("case", "clock", "event", "record") for idx in _secondary_indexes(cur, t[name])
        ]
        for index, _ in dropped:
            cur.execute(f'DROP INDEX "{index}"')

        # 1. Per case: the random draws and what follows from them. ``hours``: the case's moments (the
        # slots of HISTORIES) in hours after received_at; ``scale`` squeezes them into the case's age so
        # the last one it reached lies before now.
        started = time.perf_counter()
        _lookup_tables(cur, cat, seed)
        cur.execute("SELECT setseed(%(seed)s)", params)
        cur.execute("DROP TABLE IF EXISTS bench_gen")
        cur.execute(
            f"""
            CREATE UNLOGGED TABLE bench_gen AS
            WITH d AS (
              SELECT i, random() * %(days)s AS age_days, random() AS r_open, random() AS r_state,
                     random() AS r_cat, random() AS r_place, random() AS r_channel, random() AS r_nature,
                     random() AS r_class, random() AS r_urgency, random() AS r_text, random() AS r_down,
                     random() AS r_misc, random() AS r_late,
                     0.2 + random() * 2 AS e2, random() * 8 AS e3, 0.5 + random() * 24 AS e4,
                     24 + random() * 14 * 24 AS e5, 12 + random() * 60 AS e6, 24 + random() * 96 AS e7,
                     120 + random() * 600 AS e8
                FROM generate_series(1, %(n)s) AS i
            ), s AS (
              SELECT d.*, now() - age_days * interval '1 day' AS received_at,
                     CASE WHEN r_open < (CASE {open_share} ELSE {OPEN_SHARE[-1][1]} END)
                          THEN {_pick("r_state", OPEN_STATES)}
                          ELSE {_pick("r_state", CLOSED_STATES)} END AS status,
                     {_pick("r_channel", CHANNELS)} AS ch,
                     width_bucket(r_cat, %(cat_bounds)s::float8[]) AS cat_rank,
                     1 + floor(r_place * %(places)s)::int AS place,
                     1 + floor(r_text * {N_TEXTS})::int AS text,
                     r_down < 0.15 AS down,
                     ARRAY[0, e2, e2 + e3, e2 + e3 + e4, e2 + e3 + e4 + e5, e2 + e3 + e4 + e5 + e6,
                           e2 + e3 + e4 + e5 + e6 + e7, e2 + e3 + e4 + e5 + e6 + e7 + e8] AS hours
                FROM d
            ), l AS (
              SELECT s.*, CASE status {last_slot} END AS last_slot FROM s
            )
            SELECT l.*, row_number() OVER (ORDER BY received_at, i) AS case_id,
                   LEAST(1.0, age_days * 24 * 0.95 / GREATEST(hours[last_slot], 0.01)) AS scale,
                   c.category_id,
                   CASE WHEN status NOT IN {_in(REACHED_DISPATCH)} THEN NULL
                        WHEN down THEN coalesce(p.township_unit, c.unit_id)
                        ELSE c.unit_id END AS lead_unit,
                   p.lon, p.lat, p.cell_id, p.origin_id, p.origin_path, p.township_id, p.township_path, p.name
              FROM l JOIN bench_cats c ON c.rank = l.cat_rank JOIN bench_places p ON p.place = l.place
            """,
            params,
        )
        step("draws", started)

        # 2. The cases, in received order (ids grow with time, as they do in production).
        started = time.perf_counter()
        closed_slot = " ".join(f"WHEN '{s}' THEN {at(str(slot))}" for s, slot in CLOSED_SLOT.items())
        replied = _in(HANDLE_STOPPED)
        cur.execute(
            f"""
            INSERT INTO {t["case"]} ({", ".join(CASE_COLUMNS)})
            SELECT g.case_id,
                   %(city)s || '-' || extract(year FROM g.received_at)::int || '-'
                     || lpad(row_number() OVER (PARTITION BY extract(year FROM g.received_at)
                                                ORDER BY g.case_id)::text, 6, '0'),
                   CASE WHEN g.ch = 'grid' THEN 'event' ELSE 'appeal' END, g.ch,
                   {_pick("g.r_nature", NATURES)},
                   CASE WHEN g.status = 'received' AND g.r_misc < 0.3 THEN NULL  -- not yet classified
                        ELSE g.category_id END,
                   {_pick("g.r_class", HANDLING)}, {_pick("g.r_urgency", URGENCY)},
                   x.title, x.description,
                   (%(roads)s::text[])[1 + g.i %% cardinality(%(roads)s::text[])] || (1 + g.i %% 399) || '号 '
                     || g.name,
                   CASE WHEN g.r_misc < 0.9 THEN g.lon END, CASE WHEN g.r_misc < 0.9 THEN g.lat END,
                   CASE WHEN g.r_misc < 0.9 THEN g.cell_id END,
                   g.origin_id, g.origin_path,
                   CASE WHEN g.down THEN g.township_id ELSE %(county_id)s END,
                   CASE WHEN g.down THEN 'township' ELSE 'county' END,
                   CASE WHEN g.down THEN g.township_path ELSE %(county_path)s END,
                   g.lead_unit, false, n.name, %(phone)s,
                   md5(g.i::text) || md5((g.i + 1)::text), g.r_misc > 0.97, true, g.status, g.last_slot,
                   NULL, g.received_at,
                   CASE WHEN g.status IN {_in(REACHED_REGISTER)} THEN {at("2")} END,
                   CASE WHEN g.status IN {_in(REACHED_DISPATCH)} THEN {at("3")} END,
                   CASE WHEN g.status IN {replied} THEN {at("5")} END,
                   CASE g.status {closed_slot} END,
                   {at("g.last_slot")},
                   CASE WHEN g.status IN ('received', 'confirming', 'registered')
                        THEN {at("g.last_slot")} + interval '1 day'
                        WHEN g.status IN {_in(HANDLE_RUNNING)} THEN {at("3")} + interval '14 days' END,
                   CASE WHEN g.status IN ('received', 'confirming') THEN 'register'
                        WHEN g.status = 'registered' THEN 'dispatch'
                        WHEN g.status IN {_in(HANDLE_RUNNING)} THEN 'handle' ELSE '' END,
                   CASE WHEN g.r_late < 0.08 THEN 'overdue' ELSE 'on_time' END, g.r_late < 0.1,
                   CASE WHEN g.status IN {replied} OR g.status = 'direct_answered' THEN x.reply ELSE '' END,
                   g.r_late < 0.01, false, (g.r_late < 0.05)::int, 0, 0, 0, 0, 0
              FROM bench_gen AS g
              JOIN bench_texts AS x ON x.text = g.text
              JOIN bench_texts AS n ON n.text = 1 + (g.i * 7) %% {N_TEXTS}
             ORDER BY g.case_id
            """,
            params,
        )
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{t['case']}', 'id'), (SELECT max(id) FROM {t['case']}))"
        )
        step("cases", started)

        # 3. The handling clock of every case that reached dispatch (the stage GET requests reads).
        started = time.perf_counter()
        warn, deadline, serious = (f"started_at + lim * interval '{d} days'" for d in ("1.12", "1.4", "2.1"))
        cur.execute(
            f"""
            INSERT INTO {t["clock"]} ({", ".join(CLOCK_COLUMNS)})
            SELECT case_id, 'handle', 0, '', 'work_day', lim, 0.80, 1.5, started_at,
                   {deadline}, {warn}, {serious}, state,
                   CASE WHEN state = 'paused' THEN last_at END, 0, 0, stopped_at,
                   CASE WHEN coalesce(stopped_at, now()) >= {serious} THEN 'serious'
                        WHEN coalesce(stopped_at, now()) >= {deadline} THEN 'overdue'
                        WHEN coalesce(stopped_at, now()) >= {warn} THEN 'warning'
                        ELSE 'on_time' END,
                   CASE WHEN state <> 'running' THEN NULL
                        WHEN now() < {warn} THEN {warn}
                        WHEN now() < {deadline} THEN {deadline}
                        WHEN now() < {serious} THEN {serious} END
              FROM (SELECT g.case_id, {at("3")} AS started_at, {at("g.last_slot")} AS last_at,
                           CASE WHEN g.r_class >= 0.95 THEN 1 WHEN g.r_late < 0.3 THEN 5
                                WHEN g.r_late < 0.8 THEN 10 ELSE 15 END AS lim,
                           CASE WHEN g.status IN {replied} THEN 'stopped'
                                WHEN g.status IN {_in(HANDLE_PAUSED)} THEN 'paused'
                                ELSE 'running' END AS state,
                           CASE WHEN g.status IN {replied} THEN {at("5")} END AS stopped_at
                      FROM bench_gen AS g WHERE g.status IN {_in(REACHED_DISPATCH)}) AS c
             ORDER BY case_id
            """,
            params,
        )
        step("clocks", started)

        # 4. The event history each status implies.
        started = time.perf_counter()
        rows = []
        for status, history in HISTORIES.items():
            before = ""
            for seq, (code, to_status, slot) in enumerate(history, start=1):
                rows.append(f"('{status}', {seq}, '{code}', '{before}', '{to_status}', {slot})")
                before = to_status
        data = " ".join(f"WHEN '{code}' THEN {sql}" for code, sql in EVENT_DATA.items())
        cur.execute(
            f"""
            INSERT INTO {t["event"]} ({", ".join(EVENT_COLUMNS)})
            SELECT g.case_id, h.seq, h.code, NULL, {at("h.slot")}, h.from_status, h.to_status,
                   CASE WHEN h.code IN ('dispatch', 'accept', 'reply') THEN g.lead_unit END,
                   CASE h.code {data} ELSE '{{}}'::jsonb END
              FROM bench_gen AS g
              JOIN bench_texts AS x ON x.text = g.text
              JOIN (VALUES {", ".join(rows)}) AS h(status, seq, code, from_status, to_status, slot)
                ON h.status = g.status
             ORDER BY g.case_id, h.seq
            """,
            params,
        )
        step("events", started)

        # 5. The Open311 side of the cases that came in through it.
        started = time.perf_counter()
        cur.execute(
            f"""
            INSERT INTO {t["record"]} ({", ".join(RECORD_COLUMNS)})
            SELECT g.case_id, %(endpoint_id)s, %(api_key_id)s, md5('token' || g.case_id), '', '', '',
                   'device-' || (g.i %% 5000), '', '', '',
                   CASE WHEN g.r_misc < 0.3 THEN 'https://img.example.org/open311/' || g.case_id || '.jpg'
                        ELSE '' END,
                   CASE WHEN g.r_misc < 0.5 THEN '{{"light_state": "dark"}}'::jsonb ELSE '{{}}'::jsonb END,
                   '', '', g.received_at
              FROM bench_gen AS g WHERE g.ch = 'open311' ORDER BY g.case_id
            """,
            params,
        )
        step("open311 records", started)

        started = time.perf_counter()
        for _, definition in dropped:
            cur.execute(definition)
        cur.execute("DROP TABLE bench_gen, bench_cats, bench_places, bench_texts")
        step("indexes", started)
        started = time.perf_counter()
        cur.execute("SET session_replication_role = DEFAULT")
        for name in ("case", "clock", "event", "record"):
            cur.execute(f"VACUUM ANALYZE {t[name]}")
        step("vacuum analyze", started)
    return timings
