"""Who works the demo history: the units the categories need, their handlers, the desks and their staff.

Everything is created through the jurisdictions and accounts actions and looked up first, so the step is
idempotent. Existing demo personas (civicgrid.accounts.demo, the grid step's leaders and workers) are reused:
whoever already holds the role at a desk or unit does the work there, and only missing posts get a
generated account (``hd<unit code>`` handlers, ``ds<code>`` dispatchers, ``wc<code>`` window clerks,
``hl<code>-<n>`` hotline operators).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civicgrid.accounts.actions import do_grant_role
from civicgrid.accounts.demo import ensure_staff
from civicgrid.accounts.models import Role, RoleGrant, User
from civicgrid.demo.context import DemoContext, person_name
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.actions import do_upsert_unit, do_upsert_unit_type
from civicgrid.jurisdictions.demo import UNIT_TYPES, unit_code
from civicgrid.jurisdictions.models import Jurisdiction, Level, Unit, UnitType

# Unit types the categories need beyond those of the geography step (civicgrid.jurisdictions.demo).
EXTRA_UNIT_TYPES = [
    ("jy", "教育"),
    ("jt", "交通运输"),
    ("sthj", "生态环境"),
    ("zr", "自然资源和规划"),
    ("ny", "农业农村"),
    ("sw", "商务"),
    ("wl", "文化旅游体育"),
    ("fg", "发展和改革"),
    ("gx", "工业和信息化"),
    ("yj", "应急管理"),
    ("jw", "纪检监察"),
    ("gov_office", "政府办公室"),
]
EXTRA_COUNTY_UNITS = [
    ("jy", "{name}教育局"),
    ("jt", "{name}交通运输局"),
    ("sthj", "{city}生态环境局{name}分局"),
    ("zr", "{city}自然资源和规划局{name}分局"),
    ("ny", "{name}农业农村局"),
    ("sw", "{name}商务局"),
    ("wl", "{name}文化旅游体育局"),
    ("fg", "{name}发展和改革局"),
    ("gx", "{name}工业和信息化局"),
    ("yj", "{name}应急管理局"),
    ("jw", "{name}纪委监委"),
    ("gov_office", "{name}人民政府办公室"),
]
# City departments that take cases escalated to the city (others are coordinated and sent back down).
EXTRA_CITY_UNITS = [
    ("zj", "{city}住房和城乡建设局"),
    ("zr", "{city}自然资源和规划局"),
    ("sthj", "{city}生态环境局"),
    ("jt", "{city}交通运输局"),
]

# The 权责清单 defaults for the demo: first-level class (or a deeper name path) → unit type code.
CATEGORY_UNIT_TYPES: dict[str, str] = {
    "城乡建设": "zj",
    "城乡建设/城市建设和市政管理": "cg",
    "城乡建设/城乡规划": "zr",
    "城乡建设/城乡规划/违章建筑": "cg",
    "城乡建设/安全生产": "yj",
    "城乡建设/村镇建设": "township_office",
    "城乡建设/住房保障与房地产/物业服务": "township_office",
    "党务政务": "gov_office",
    "国土资源": "zr",
    "环境保护": "sthj",
    "纪检监察": "jw",
    "交通运输": "jt",
    "经济管理": "fg",
    "经济管理/安全生产": "yj",
    "科技与信息产业": "gx",
    "民政": "mz",
    "民政/基层选举和社区建设": "township_office",
    "民政/基层选举和社区建设/社区建设": "community_committee",
    "农村农业": "ny",
    "农村农业/村务管理": "township_office",
    "商贸旅游": "sw",
    "商贸旅游/市场监管": "sj",
    "商贸旅游/质监检验检疫": "sj",
    "商贸旅游/旅游管理": "wl",
    "卫生计生": "wj",
    "卫生计生/食品药品监管": "sj",
    "政法": "sf",
    "政法/户籍证件": "police",
    "政法/交通管理": "police",
    "政法/社会治安": "police",
    "政法/刑案侦破": "police",
    "政法/警务督察": "police",
    "政法/仲裁与调解": "judicial_office",
    "政法/仲裁与调解/劳动仲裁": "rs",
    "政法/仲裁与调解/人事仲裁": "rs",
    "教育文体": "jy",
    "教育文体/体育": "wl",
    "教育文体/文化": "wl",
    "教育文体/文物管理": "wl",
    "劳动和社会保障": "rs",
}
# Unit types whose units sit at each township (the police type has a county 分局 too: cases go to the
# township's 派出所) and at each community.
TOWNSHIP_TYPES = frozenset({"township_office", "service_center", "judicial_office", "police"})
COMMUNITY_TYPES = frozenset({"community_committee"})
HOTLINE_OPERATORS = 4  # generated county hotline operators besides the demo persona


@dataclass
class Staff:
    """The demo's posts, each a User instance reused for every action (its scope is cached on it)."""

    county: Jurisdiction
    city: Jurisdiction
    townships: dict[str, Jurisdiction]  # by code
    operators: list[User]  # county hotline (受理, 回访)
    city_operator: User
    county_dispatcher: User
    city_dispatcher: User
    supervisor: User  # the county oversight office (督查): extensions, suspension, reopening
    township_dispatchers: dict[str, User]
    window_clerks: dict[str, User]
    units: dict[str, Unit]  # every unit of the city, county and townships, by code
    cells: list[GridCell]
    cell_leaders: dict[int, User]  # grid cell pk → its grid leader (the community desk)
    cell_workers: dict[int, User]  # grid cell pk → a grid worker (on-site verification)
    created: list[int] = field(default_factory=lambda: [0])
    _handlers: dict[str, User] = field(default_factory=dict)
    _ctx: DemoContext | None = None

    def handler(self, unit: Unit) -> User:
        """The unit's handler: whoever already handles for it, else a generated account (made on first use,
        so only units that handle demo cases get one)."""
        user = self._handlers.get(unit.code)
        if user is None:
            assert self._ctx is not None
            user = _post(
                self._ctx,
                f"hd{unit.code}",
                Role.HANDLER,
                unit=unit,
                roles=(Role.HANDLER, Role.MEDIATOR),
                counter=self.created,
            )
            self._handlers[unit.code] = user
        return user

    def unit_for(self, type_code: str, place: Jurisdiction) -> Unit | None:
        """The unit of ``type_code`` responsible for ``place`` (a community): its community, township or
        county unit, depending on where units of that type sit."""
        codes = [c for c in place.path.split("/") if c]
        if type_code in COMMUNITY_TYPES:
            candidates = [unit_code(codes[-1], type_code)]
        elif type_code in TOWNSHIP_TYPES:
            candidates = [unit_code(codes[-2], type_code), unit_code(self.county.code, type_code)]
        else:
            candidates = [unit_code(self.county.code, type_code)]
        return next((self.units[c] for c in candidates if c in self.units), None)


def _post(
    ctx: DemoContext,
    username: str,
    role: Role,
    *,
    jurisdiction: Jurisdiction | None = None,
    unit: Unit | None = None,
    roles: tuple[Role, ...] = (),
    counter: list[int],
) -> User:
    """Whoever holds ``role`` (or one of ``roles``) at the place already, else ``username`` (created)."""
    grants = RoleGrant.objects.filter(role__in=[r.value for r in (roles or (role,))], user__is_active=True)
    grants = (
        grants.filter(unit=unit) if unit is not None else grants.filter(jurisdiction=jurisdiction, unit=None)
    )
    # Chosen here, not by "ORDER BY username LIMIT 1": on tables filled in the same transaction (no
    # statistics yet) PostgreSQL would walk the whole user table by name for it.
    found = min(grants.select_related("user"), key=lambda g: g.user.username, default=None)
    if found is not None:
        return found.user
    user, created = ensure_staff(ctx, username, person_name(ctx.rng("name", username)))
    counter[0] += created
    do_grant_role(user, role=role, jurisdiction=jurisdiction, unit=unit, actor=None)
    return user


def load_units(county: Jurisdiction) -> dict[str, Unit]:
    """The extra unit types and the county and city units of the categories; all units by code."""
    base = len(UNIT_TYPES)
    types = {
        code: do_upsert_unit_type(code=code, name=name, sort_order=base + i, actor=None)
        for i, (code, name) in enumerate(EXTRA_UNIT_TYPES)
    }
    types.update({t.code: t for t in UnitType.objects.exclude(code__in=list(types))})
    city = county.parent
    assert city is not None
    existing = set(Unit.objects.values_list("code", flat=True))
    short = county.name.removesuffix("区").removesuffix("县")
    for place, patterns, offset in ((county, EXTRA_COUNTY_UNITS, 20), (city, EXTRA_CITY_UNITS, 10)):
        for i, (type_code, pattern) in enumerate(patterns):
            code = unit_code(place.code, type_code)
            if code in existing:
                continue  # an administrator may have renamed it: leave it as it is
            do_upsert_unit(
                code=code,
                name=pattern.format(name=county.name, city=city.name, short=short),
                unit_type=types[type_code],
                jurisdiction=place,
                sort_order=offset + i,
                actor=None,
            )
    return {
        u.code: u
        for u in Unit.objects.filter(is_active=True, jurisdiction__path__startswith=city.path)
        .exclude(jurisdiction__level=Level.COMMUNITY)
        .select_related("jurisdiction", "unit_type")
    } | {
        u.code: u
        for u in Unit.objects.filter(
            is_active=True, jurisdiction__path__startswith=county.path, jurisdiction__level=Level.COMMUNITY
        ).select_related("jurisdiction", "unit_type")
    }


def load_staff(ctx: DemoContext, county: Jurisdiction, units: dict[str, Unit]) -> Staff:
    city = county.parent
    assert city is not None
    counter = [0]
    townships = {t.code: t for t in county.children.filter(level=Level.TOWNSHIP).order_by("code")}
    hotline = units[unit_code(county.code, "hotline")]
    operators = [_post(ctx, f"hl{county.code}-0", Role.INTAKE_OPERATOR, unit=hotline, counter=counter)]
    for n in range(1, HOTLINE_OPERATORS + 1):
        user, created = ensure_staff(
            ctx, f"hl{county.code}-{n}", person_name(ctx.rng("name", f"hl{county.code}-{n}"))
        )
        counter[0] += created
        do_grant_role(user, role=Role.INTAKE_OPERATOR, unit=hotline, actor=None)
        operators.append(user)
    city_hotline = units[unit_code(city.code, "hotline")]
    cells = list(
        GridCell.objects.filter(is_active=True, community__path__startswith=county.path)
        .select_related("community", "community__parent", "leader")
        .prefetch_related("workers")
        .order_by("code")
    )
    staff = Staff(
        county=county,
        city=city,
        townships=townships,
        operators=operators,
        city_operator=_post(
            ctx, f"hl{city.code}-0", Role.INTAKE_OPERATOR, unit=city_hotline, counter=counter
        ),
        county_dispatcher=_post(
            ctx, f"ds{county.code}", Role.DISPATCHER, jurisdiction=county, counter=counter
        ),
        city_dispatcher=_post(ctx, f"ds{city.code}", Role.DISPATCHER, jurisdiction=city, counter=counter),
        supervisor=_post(
            ctx,
            f"sv{county.code}",
            Role.SUPERVISOR,
            unit=units[unit_code(county.code, "oversight")],
            counter=counter,
        ),
        township_dispatchers={
            code: _post(ctx, f"ds{code}", Role.DISPATCHER, jurisdiction=t, counter=counter)
            for code, t in townships.items()
        },
        window_clerks={
            code: _post(
                ctx,
                f"wc{code}",
                Role.WINDOW_CLERK,
                unit=units[unit_code(code, "service_center")],
                counter=counter,
            )
            for code in townships
        },
        units=units,
        cells=[c for c in cells if c.leader is not None and c.workers.all()],
        cell_leaders={c.pk: c.leader for c in cells if c.leader is not None},
        cell_workers={
            c.pk: sorted(c.workers.all(), key=lambda u: u.username)[0] for c in cells if c.workers.all()
        },
        created=counter,
        _ctx=ctx,
    )
    return staff
