"""Demo step of Open311 (after the portal): the city serves GeoReport v2 as jurisdiction_id 430100, the
street-light service asks two extra questions, reports of wrongdoing stay unpublished as always, a demo
client holds a key (derived from the demo seed, so `demo_logins` can print it every time) and has posted
two requests — one just in, one already with the responsible office.

Everything goes through the actions (actor None); natural keys (codes, the key's digest, idempotency keys)
make a second run add nothing.
"""

from __future__ import annotations

import base64
import hashlib

from django.db.models import Q

from civicgrid.cases import notify
from civicgrid.cases.actions import do_accept, do_dispatch, do_register
from civicgrid.cases.models import Category
from civicgrid.demo.context import DemoContext, mobile_number, person_name
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.lib.geometry import from_geojson
from civicgrid.open311 import actions
from civicgrid.open311.models import (
    ApiKey,
    AttributeValue,
    Datatype,
    Endpoint,
    ServiceAttribute,
    ServiceSetting,
)

CITY = "430100"
LIGHT_PATH = ("城乡建设", "城市建设和市政管理", "城市公共设施")
# (code, question, datatype, required, order, values)
LIGHT_QUESTIONS = [
    ("pole_number", "灯杆编号（灯杆上喷印的编号，没有可不填）", Datatype.STRING, False, 1, []),
    (
        "light_state",
        "路灯是什么情况？",
        Datatype.SINGLEVALUELIST,
        True,
        2,
        [("dark", "不亮"), ("flicker", "闪烁"), ("daytime", "白天常亮"), ("damaged", "灯杆/灯具损坏")],
    ),
]


def demo_key_secret(seed: str) -> str:
    digest = hashlib.sha256(f"{seed}:open311:demo-key".encode()).digest()
    return actions.KEY_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _category(path: tuple[str, ...]) -> Category | None:
    node: Category | None = None
    for name in path:
        node = Category.objects.filter(parent=node, name=name, is_active=True).first()
        if node is None:
            return None
    return node


def _endpoint(city: Jurisdiction) -> Endpoint:
    endpoint = Endpoint.objects.filter(code=CITY).first()
    if endpoint is None:
        endpoint = actions.do_save_endpoint(
            Endpoint(
                code=CITY,
                jurisdiction=city,
                name=f"{city.name} 12345",
                contact="12345@example.gov.cn",
                key_service="向市12345热线办申请（演示）",
            ),
            actor=None,
        )
    return endpoint


def _questions(category: Category) -> None:
    if not ServiceSetting.objects.filter(category=category).exists():
        actions.do_save_service_setting(
            ServiceSetting(
                category=category,
                keywords="路灯, 照明, 灯杆",
                service_notice="路灯故障一般在 3 个工作日内修复；危及安全的请直接拨打 12345。",
            ),
            actor=None,
        )
    for code, question, datatype, required, order, values in LIGHT_QUESTIONS:
        attribute = ServiceAttribute.objects.filter(category=category, code=code).first()
        if attribute is None:
            attribute = actions.do_save_service_attribute(
                ServiceAttribute(
                    category=category,
                    code=code,
                    datatype=datatype,
                    required=required,
                    order=order,
                    description=question,
                ),
                actor=None,
            )
        for n, (key, name) in enumerate(values):
            if not AttributeValue.objects.filter(attribute=attribute, key=key).exists():
                actions.do_save_attribute_value(
                    AttributeValue(attribute=attribute, key=key, name=name, order=n), actor=None
                )


def load(ctx: DemoContext) -> None:
    city = Jurisdiction.objects.filter(code=CITY).first()
    county = Jurisdiction.objects.filter(code=ctx.county_code).first()
    light = _category(LIGHT_PATH)
    if city is None or county is None or light is None:
        ctx.say("  open311: the demo city, county or street-light category is missing; skipped")
        return
    endpoint = _endpoint(city)
    _questions(light)
    secret = demo_key_secret(ctx.seed)
    key = ApiKey.objects.filter(digest=actions.key_digest(secret)).first()
    if key is None:
        key, _secret = actions.do_issue_api_key(
            endpoint, name="演示客户端（随手拍 App）", requests_per_minute=120, secret=secret, actor=None
        )
    cells = list(
        GridCell.objects.filter(is_active=True, community__path__startswith=county.path)
        .select_related("community")
        .order_by("code")[5:7]
    )
    stories = [
        ("light-1", "dark", "小区东门外两盏路灯连续三晚不亮，夜里出行不安全。"),
        ("light-2", "damaged", "路口灯杆被车撞歪，灯罩掉在人行道上，请尽快处理。"),
    ]
    with notify.suppressed():
        for n, ((name, state, text), cell) in enumerate(zip(stories, cells, strict=False)):
            point = from_geojson(cell.boundary).representative_point()
            rng = ctx.rng("open311", name)
            submission = actions.Submission(
                endpoint=endpoint,
                api_key=key,
                category=light,
                title=text.split("，")[0],
                description=text,
                lon=round(point.x, 6),
                lat=round(point.y, 6),
                place=cell.community,
                address=f"{cell.community.name}",
                reporter_name=person_name(rng),
                phone=mobile_number(rng),
                device_id=f"demo-device-{n + 1}",
                answers={"light_state": state},
            )
            record, created = actions.do_submit_request(submission, idempotency_key=f"demo-{name}")
            if created and n == 1:
                case = record.case
                do_register(case, category=light, actor=None)
                unit = Unit.objects.filter(
                    Q(jurisdiction=county) & Q(is_active=True) & Q(unit_type_id=_unit_type(light))
                ).first()
                if unit is not None:
                    do_dispatch(case, lead=unit, actor=None)
                    do_accept(case, actor=None)
            ctx.say(f"  open311: {record.case.number} ({record.case.get_status_display()})")
    ctx.say(f"  open311: jurisdiction_id {CITY}; demo key {secret}")


def _unit_type(category: Category) -> int | None:
    node: Category | None = category
    while node is not None and node.unit_type_id is None:
        node = node.parent
    return node.unit_type_id if node else None
