"""Demo step: one named login per role and level in the demo district (printed by `demo_logins`)."""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.accounts.actions import do_create_staff, do_grant_role
from civicgrid.accounts.models import Role, User
from civicgrid.demo.context import DemoContext, mobile_number
from civicgrid.jurisdictions.models import Jurisdiction, Unit


@dataclass(frozen=True)
class Persona:
    username: str
    full_name: str
    role: Role | None  # None: platform superuser
    jurisdiction: str | None = None  # division code
    unit: str | None = None  # unit code

    def describe(self) -> str:
        """e.g. "window_clerk 窗口受理员 @ 坡子街街道便民服务中心"."""
        if self.role is None:
            return "superuser (platform operator)"
        if self.unit:
            where = Unit.objects.filter(code=self.unit).values_list("name", flat=True).first() or self.unit
        else:
            where = (
                Jurisdiction.objects.filter(code=self.jurisdiction).values_list("name", flat=True).first()
                or ""
            )
        return f"{self.role.value} {self.role.label} @ {where}"


# Codes are those of 长沙市 (430100) / 天心区 (430103) / 坡子街街道 (430103002) / 八角亭社区 (430103002001).
DEMO_PERSONAS: list[Persona] = [
    Persona("admin", "平台管理员", None),
    Persona("cs_hotline", "吴芳", Role.INTAKE_OPERATOR, unit="430100-hotline"),
    Persona("cs_dispatcher", "钱海涛", Role.DISPATCHER, jurisdiction="430100"),
    Persona("tx_admin", "周建华", Role.ADMINISTRATOR, jurisdiction="430103"),
    Persona("tx_leader", "刘卫东", Role.LEADER, jurisdiction="430103"),
    Persona("tx_supervisor", "何晓燕", Role.SUPERVISOR, unit="430103-oversight"),
    Persona("tx_dispatcher", "陈思远", Role.DISPATCHER, jurisdiction="430103"),
    Persona("tx_hotline", "李婷", Role.INTAKE_OPERATOR, unit="430103-hotline"),
    Persona("tx_cg_handler", "罗志刚", Role.HANDLER, unit="430103-cg"),
    Persona("pzj_leader", "王丽", Role.LEADER, jurisdiction="430103002"),
    Persona("pzj_dispatcher", "张敏", Role.DISPATCHER, jurisdiction="430103002"),
    Persona("pzj_window", "赵静", Role.WINDOW_CLERK, unit="430103002-service_center"),
    Persona("pzj_mediator", "孙明", Role.MEDIATOR, unit="430103002-judicial_office"),
    # The grid step gives these three the first cell and building of 八角亭社区.
    Persona("bjt_leader", "黄秀英", Role.GRID_LEADER, jurisdiction="430103002001"),
    Persona("bjt_grid1", "杨磊", Role.GRID_WORKER, jurisdiction="430103002001"),
    Persona("bjt_building1", "谢桂兰", Role.BUILDING_HEAD, jurisdiction="430103002001"),
]


def ensure_staff(ctx: DemoContext, username: str, full_name: str) -> tuple[User, bool]:
    """The demo account with this username, created with the demo password if missing."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = do_create_staff(
        username=username,
        full_name=full_name,
        phone=mobile_number(ctx.rng("phone", username)),
        password_hash=ctx.password_hash,
        actor=None,
    )
    return user, True


def load(ctx: DemoContext) -> None:
    created = 0
    for persona in DEMO_PERSONAS:
        user, was_created = ensure_staff(ctx, persona.username, persona.full_name)
        created += was_created
        if persona.role is None:
            if not user.is_superuser:
                User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
            continue
        unit = Unit.objects.get(code=persona.unit) if persona.unit else None
        jurisdiction = Jurisdiction.objects.get(code=persona.jurisdiction) if persona.jurisdiction else None
        do_grant_role(user, role=persona.role, jurisdiction=jurisdiction, unit=unit, actor=None)
    ctx.say(f"    personas: {created} created, {len(DEMO_PERSONAS) - created} kept")
