"""Demo step of the resident portal (after civicgrid.cases.demo): the portal serves the demo district, and a
few residents have used it — a fresh pothole report supported by two neighbours (so "similar requests
nearby" finds it), a case being handled, one done and waiting for the resident's rating, and one the resident
rated unsatisfied and asked to reopen (pending: the supervisor's case page offers the decision).

Everything goes through the actions (actor None), keyed by fixed form keys: a second run adds nothing. The
tracking links are derived from the keys (civicgrid.portal.links), so the step prints them every time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import shapely

from civicgrid.cases import notify
from civicgrid.cases.actions import do_accept, do_dispatch, do_register, do_reply, do_revisit, do_verify
from civicgrid.cases.models import Case, Category, Nature
from civicgrid.cases.workflow import Status
from civicgrid.demo.context import DemoContext, mobile_number, person_name
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.lib.geometry import from_geojson
from civicgrid.portal import actions, queries
from civicgrid.portal.models import ReopenRequest, Support

# (key, title, description, category path by names, nature, metres east/north of the cell's point, end state)
STORIES = [
    (
        "pothole",
        "小区门口路面塌陷，有积水",
        "小区大门外人行道有一处塌陷，约一米见方，下雨后积水，老人小孩经过很危险，请尽快修复。",
        ("城乡建设", "城市建设和市政管理", "基础设施"),
        Nature.HELP,
        (0, 0),
        "received",
    ),
    (
        "streetlight",
        "路灯晚上不亮",
        "社区主干道有三盏路灯连续一周晚上不亮，夜间行人看不清路，请安排检修。",
        ("城乡建设", "城市建设和市政管理", "城市公共设施"),
        Nature.HELP,
        (120, 60),
        "handling",
    ),
    (
        "litter",
        "垃圾站周边垃圾清运不及时",
        "垃圾站周边每天下午垃圾堆满溢出，气味很大，希望增加清运次数。",
        ("城乡建设", "城市建设和市政管理", "环境卫生"),
        Nature.COMPLAINT,
        (-150, 80),
        "resolved",
    ),
    (
        "noise",
        "夜间施工噪音扰民",
        "附近工地连续多晚施工到凌晨一点，噪音很大，影响休息，请依法处理。",
        ("城乡建设", "城市建设和市政管理", "城管执法"),
        Nature.COMPLAINT,
        (200, -100),
        "reopen_requested",
    ),
]


@dataclass
class _Where:
    lon: float
    lat: float
    community: Jurisdiction  # routes a story whose offset point falls outside every grid cell


def _form_key(ctx: DemoContext, key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.seed}:portal:{key}"))


def _category(path: tuple[str, ...]) -> Category | None:
    node: Category | None = None
    for name in path:
        found = Category.objects.filter(parent=node, name=name, is_active=True).first()
        if found is None:
            return node
        node = found
    return node


def _origin(county: Jurisdiction) -> _Where | None:
    cell = (
        GridCell.objects.filter(is_active=True, community__path__startswith=county.path)
        .select_related("community")
        .order_by("code")
        .first()
    )
    if cell is None:
        return None
    point = from_geojson(cell.boundary).representative_point()
    assert isinstance(point, shapely.Point)
    return _Where(lon=point.x, lat=point.y, community=cell.community)


def _offset(where: _Where, east_m: float, north_m: float) -> tuple[float, float]:
    import math

    dlat = north_m / 111_320.0
    dlon = east_m / (111_320.0 * math.cos(math.radians(where.lat)))
    return round(where.lon + dlon, 6), round(where.lat + dlat, 6)


def _unit_for(case: Case, county: Jurisdiction) -> Unit | None:
    """A county unit of the type the category's 权责清单 names (inherited from its ancestors)."""
    category = case.category
    while category is not None and category.unit_type_id is None:
        category = category.parent
    if category is None:
        return None
    return Unit.objects.filter(
        jurisdiction=county, unit_type_id=category.unit_type_id, is_active=True
    ).first()


def _walk(case: Case, end: str, county: Jurisdiction, category: Category | None) -> None:
    if end == "received" or category is None:
        return
    do_register(case, category=category, actor=None)
    unit = _unit_for(case, county)
    if unit is None:
        return
    do_dispatch(case, lead=unit, actor=None)
    do_accept(case, actor=None)
    if end == "handling":
        return
    do_reply(case, reply=f"经现场核查，{unit.name}已于近日处理完毕，感谢您的反映。", actor=None)
    if case.status == Status.REPLIED:
        do_verify(case, passed=True, actor=None)
    if end == "resolved":
        return
    do_revisit(
        case,
        channel="web",
        resolution="unresolved",
        satisfaction="unsatisfied",
        comment="施工仍在夜间进行，问题没有解决。",
        actor=None,
    )
    actions.do_request_reopen(case, reason="这两天晚上十二点以后还在施工，请再次处理。", actor=None)


def load(ctx: DemoContext) -> None:
    county = Jurisdiction.objects.filter(code=ctx.county_code).first()
    if county is None:
        ctx.say("  portal: the demo county is missing; skipped")
        return
    policy = queries.current_policy()
    if policy.service_area_id != county.pk:
        policy.service_area = county
        actions.do_save_portal_policy(policy, actor=None)
    origin = _origin(county)
    if origin is None:
        ctx.say("  portal: the demo county has no grid cells; skipped")
        return
    with notify.suppressed():
        for n, (key, title, description, path, nature, (east, north), end) in enumerate(STORIES):
            rng = ctx.rng("portal", key)
            lon, lat = _offset(origin, east, north)
            category = _category(path)
            submission = actions.do_submit_request(
                form_key=_form_key(ctx, key),
                ip_address=f"192.0.2.{n + 1}",  # TEST-NET: never a real resident's address
                nature=nature,
                title=title,
                description=description,
                category=category,
                address="",
                lon=lon,
                lat=lat,
                jurisdiction=origin.community,
                reporter_name=person_name(rng),
                reporter_phone=mobile_number(rng),
                is_anonymous=False,
                actor=None,
            )
            case = submission.case
            if submission.created:
                _walk(case, end, county, category)
            if key == "pothole" and not Support.objects.filter(case=case).exists():
                for m in range(2):
                    actions.do_add_support(case, ip_address=f"192.0.2.{50 + m}", actor=None)
            ctx.say(f"  portal: {case.number} ({end}) → /track/{submission.secret}/")
    pending = ReopenRequest.objects.filter(status="pending").count()
    ctx.say(f"  portal: {len(STORIES)} web requests, {pending} reopen request(s) waiting for a supervisor")
