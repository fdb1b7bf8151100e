"""The service window on top of the test world: the demo catalogue, three centres and a few visits.

Centres (unit type ``service_center``):
- 坡子街街道便民服务中心 (430103002, the world's unit; clerk pzj_window)
- 城南路街道便民服务中心 (430103004, same district, no clerk)
- 侯家塘街道便民服务中心 (430111001, 雨花区: outside everyone in 天心区)

Items used by the tests: GA-001 居住证办理 (承诺件: 10 calendar days, 5 required materials), YB-001 城乡居民
医保参保登记 (即办件), MZ-001 高龄津贴申请 (承诺件 by the county: 15 working days).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civicgrid.jurisdictions.actions import do_upsert_unit
from civicgrid.jurisdictions.models import Unit, UnitType
from civicgrid.services.actions import do_register_visit, do_save_service_center_profile
from civicgrid.services.demo import load_items
from civicgrid.services.models import Outcome, ServiceCenterProfile, ServiceItem, WindowVisit
from tests.world import World

PHONE = "13912345678"
VALID_ID = "430103199001011234"  # checksum ok


@dataclass
class Window:
    items: dict[str, ServiceItem]
    centers: dict[str, Unit]  # "pzj", "cnl", "yh"
    visits: dict[str, WindowVisit] = field(default_factory=dict)

    def item(self, code: str) -> ServiceItem:
        return self.items[code]

    def required_ids(self, code: str) -> list[int]:
        return [m.pk for m in self.items[code].materials.filter(required=True).order_by("order")]


def build_window(world: World, *, visits: bool = True) -> Window:
    """The catalogue and the centres with their details; and, unless ``visits`` is False, five visits."""
    items = load_items()
    kind = UnitType.objects.get(code="service_center")
    centers = {"pzj": world.units["430103002-service_center"]}
    for key, code, name, where in (
        ("cnl", "430103004-service_center", "城南路街道便民服务中心", "430103004"),
        ("yh", "430111001-service_center", "侯家塘街道便民服务中心", "430111001"),
    ):
        unit, _ = do_upsert_unit(
            code=code, name=name, unit_type=kind, jurisdiction=world.j(where), actor=None
        )
        centers[key] = unit
    for key, center in centers.items():
        do_save_service_center_profile(
            ServiceCenterProfile(
                unit=center,
                address=f"{center.name}一楼大厅（{key}）",
                phone="0731-85550000",
                opening_hours="周一至周五 8:30—17:30",
                collection_point=f"{center.name}综合窗口",
            ),
            actor=None,
        )
    window = Window(items=items, centers=centers)
    if not visits:
        return window
    ga = window.required_ids("GA-001")
    window.visits = {
        "pzj_accepted": register(window, "pzj", "GA-001", ga, Outcome.ACCEPTED),
        "pzj_notice": register(window, "pzj", "GA-001", ga[1:], Outcome.NOTICE),
        "pzj_instant": register(window, "pzj", "YB-001", window.required_ids("YB-001"), Outcome.INSTANT),
        "yh_accepted": register(window, "yh", "GA-001", ga, Outcome.ACCEPTED),
        "cnl_accepted": register(window, "cnl", "GA-001", ga, Outcome.ACCEPTED),
    }
    return window


def register(
    window: Window,
    center: str,
    code: str,
    received: list[int],
    outcome: str,
    *,
    name: str = "李华",
    reason: str = "",
) -> WindowVisit:
    """A visit registered by the system (actor None), as the demo does."""
    return do_register_visit(
        item=window.items[code],
        service_center=window.centers[center],
        applicant_name=name,
        applicant_phone=PHONE,
        received=received,
        outcome=outcome,
        refusal_reason=reason,
        actor=None,
    )
