"""A small world for tests, built through the actions: two districts of 长沙市 with staff at every level.

长沙市 430100
├── 天心区 430103
│   ├── 坡子街街道 430103002
│   │   ├── 八角亭社区 430103002001   (grid cell 430103002001001, building B01)
│   │   └── 西牌楼社区 430103002002
│   └── 城南路街道 430103004
│       └── 天剑社区 430103004001
└── 雨花区 430111
    └── 侯家塘街道 430111001
        └── 梓园社区 430111001001     (grid cell 430111001001001)

Personas are named by place and role (see PERSONAS); ``yh_*`` live in 雨花区, outside everyone in 天心区.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from civicgrid.accounts.actions import do_create_staff, do_grant_role
from civicgrid.accounts.models import Role, User
from civicgrid.grids.actions import do_import_grid_cells, do_upsert_building
from civicgrid.grids.importer import check_grid_import
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.actions import do_upsert_jurisdiction, do_upsert_unit, do_upsert_unit_type
from civicgrid.jurisdictions.models import Jurisdiction, Unit

PASSWORD = "correct-horse-battery"


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


# (code, name, level, parent, boundary)
TREE: list[tuple[str, str, str, str | None, dict[str, Any] | None]] = [
    ("430100", "长沙市", "city", None, None),
    ("430103", "天心区", "county", "430100", square(112.90, 28.00, 0.2)),
    ("430103002", "坡子街街道", "township", "430103", square(112.90, 28.10, 0.1)),
    ("430103002001", "八角亭社区", "community", "430103002", square(112.90, 28.10, 0.05)),
    ("430103002002", "西牌楼社区", "community", "430103002", square(112.95, 28.10, 0.05)),
    ("430103004", "城南路街道", "township", "430103", square(113.00, 28.10, 0.1)),
    ("430103004001", "天剑社区", "community", "430103004", square(113.00, 28.10, 0.05)),
    ("430111", "雨花区", "county", "430100", square(113.10, 28.00, 0.2)),
    ("430111001", "侯家塘街道", "township", "430111", square(113.10, 28.10, 0.1)),
    ("430111001001", "梓园社区", "community", "430111001", square(113.10, 28.10, 0.05)),
]
UNITS = [
    ("430103-cg", "天心区城市管理和综合执法局", "cg", "430103"),
    ("430103-oversight", "天心区人民政府督查室", "oversight", "430103"),
    ("430103002-service_center", "坡子街街道便民服务中心", "service_center", "430103002"),
    ("430103002-judicial_office", "坡子街街道司法所", "judicial_office", "430103002"),
    ("430111-cg", "雨花区城市管理和综合执法局", "cg", "430111"),
    ("430100-cg", "长沙市城市管理和综合执法局", "cg", "430100"),
    ("430103-zj", "天心区住房和城乡建设局", "zj", "430103"),
    ("430103002-township_office", "坡子街街道办事处", "township_office", "430103002"),
    ("430103002001-community_committee", "八角亭社区居民委员会", "community_committee", "430103002001"),
]


@dataclass(frozen=True)
class PersonaSpec:
    username: str
    role: str | None  # None: no grant at all (or superuser when superuser=True)
    jurisdiction: str | None = None
    unit: str | None = None
    superuser: bool = False
    phone: str = "13800000000"


# One persona per role and level. The suffix of the username says where they work.
PERSONAS: list[PersonaSpec] = [
    PersonaSpec("root", None, superuser=True, phone="13900000001"),
    PersonaSpec("nobody", None, phone="13900000002"),
    PersonaSpec("cs_dispatcher", Role.DISPATCHER, jurisdiction="430100", phone="13900000003"),
    PersonaSpec("tx_admin", Role.ADMINISTRATOR, jurisdiction="430103", phone="13900000004"),
    PersonaSpec("tx_leader", Role.LEADER, jurisdiction="430103", phone="13900000005"),
    PersonaSpec("tx_dispatcher", Role.DISPATCHER, jurisdiction="430103", phone="13900000006"),
    PersonaSpec("tx_supervisor", Role.SUPERVISOR, unit="430103-oversight", phone="13900000007"),
    PersonaSpec("tx_hotline", Role.INTAKE_OPERATOR, jurisdiction="430103", phone="13900000008"),
    PersonaSpec("tx_cg_handler", Role.HANDLER, unit="430103-cg", phone="13900000009"),
    PersonaSpec("pzj_window", Role.WINDOW_CLERK, unit="430103002-service_center", phone="13900000010"),
    PersonaSpec("pzj_mediator", Role.MEDIATOR, unit="430103002-judicial_office", phone="13900000011"),
    PersonaSpec("bjt_leader", Role.GRID_LEADER, jurisdiction="430103002001", phone="13900000012"),
    PersonaSpec("bjt_grid", Role.GRID_WORKER, jurisdiction="430103002001", phone="13900000013"),
    PersonaSpec("bjt_building", Role.BUILDING_HEAD, jurisdiction="430103002001", phone="13900000014"),
    PersonaSpec("yh_admin", Role.ADMINISTRATOR, jurisdiction="430111", phone="13900000015"),
    PersonaSpec("yh_cg_handler", Role.HANDLER, unit="430111-cg", phone="13900000016"),
    # Case desks and units at every level (the escalation ladder 社区 → 街道 → 区 → 市).
    PersonaSpec("cs_cg_handler", Role.HANDLER, unit="430100-cg", phone="13900000017"),
    PersonaSpec("tx_zj_handler", Role.HANDLER, unit="430103-zj", phone="13900000018"),
    PersonaSpec("pzj_dispatcher", Role.DISPATCHER, jurisdiction="430103002", phone="13900000019"),
    PersonaSpec("pzj_office_handler", Role.HANDLER, unit="430103002-township_office", phone="13900000020"),
    PersonaSpec("bjt_cc_handler", Role.HANDLER, unit="430103002001-community_committee", phone="13900000021"),
    PersonaSpec("yh_dispatcher", Role.DISPATCHER, jurisdiction="430111", phone="13900000022"),
]


@dataclass
class World:
    jurisdictions: dict[str, Jurisdiction] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    cells: dict[str, GridCell] = field(default_factory=dict)

    def j(self, code: str) -> Jurisdiction:
        return self.jurisdictions[code]

    def u(self, username: str) -> User:
        return self.users[username]


def build_world() -> World:
    world = World()
    for code, name, level, parent, boundary in TREE:
        node, _ = do_upsert_jurisdiction(
            code=code,
            name=name,
            level=level,
            parent=world.jurisdictions[parent] if parent else None,
            boundary=boundary,
            actor=None,
        )
        world.jurisdictions[code] = node
    types = {code: do_upsert_unit_type(code=code, name=code, actor=None) for _, _, code, _ in UNITS}
    for code, name, type_code, where in UNITS:
        unit, _ = do_upsert_unit(
            code=code, name=name, unit_type=types[type_code], jurisdiction=world.j(where), actor=None
        )
        world.units[code] = unit
    for spec in PERSONAS:
        user = do_create_staff(
            username=spec.username, full_name=spec.username, phone=spec.phone, password=PASSWORD, actor=None
        )
        if spec.superuser:
            user.is_superuser = user.is_staff = True
            user.save()
        if spec.role:
            do_grant_role(
                user,
                role=spec.role,
                jurisdiction=world.j(spec.jurisdiction) if spec.jurisdiction else None,
                unit=world.units[spec.unit] if spec.unit else None,
                actor=None,
            )
        world.users[spec.username] = user
    features = [
        {
            "type": "Feature",
            "geometry": square(112.90, 28.10, 0.05),
            "properties": {
                "code": "430103002001001",
                "household_count": 420,
                "leader": "bjt_leader",
                "workers": ["bjt_grid"],
            },
        },
        {
            "type": "Feature",
            "geometry": square(113.10, 28.10, 0.05),
            "properties": {"code": "430111001001001", "household_count": 380},
        },
    ]
    plan = check_grid_import({"type": "FeatureCollection", "features": features})
    assert plan.ok, plan.errors
    do_import_grid_cells(plan, actor=None)
    world.cells = {c.code: c for c in GridCell.objects.all()}
    do_upsert_building(
        code="430103002001001B01",
        name="八角亭1栋",
        grid_cell=world.cells["430103002001001"],
        head=world.u("bjt_building"),
        household_count=120,
        actor=None,
    )
    return world
