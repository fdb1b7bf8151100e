"""Settings helpers, code rules, masking, encryption, division import, the demo loader and staff actions."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import translation

from civicgrid.accounts import actions as staff_actions
from civicgrid.accounts.models import Role, User
from civicgrid.core import crypto
from civicgrid.core.models import PersonalDataAccess
from civicgrid.grids.models import Building, GridCell
from civicgrid.jurisdictions.actions import do_upsert_jurisdiction
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.lib import codes
from civicgrid.lib.env import env_bool, env_int, env_list, env_url
from civicgrid.lib.masking import mask_id_number, mask_in_text, mask_phone
from tests.world import PASSWORD, World

# --- settings helpers fail loudly ----------------------------------------------------------------------


def test_env_bool_rejects_typos() -> None:
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {"X": "off"}) is False
    assert env_bool("X", True, {}) is True
    with pytest.raises(ImproperlyConfigured, match="DEBUG='ture' is not a boolean"):
        env_bool("DEBUG", False, {"DEBUG": "ture"})


def test_env_int_list_url() -> None:
    assert env_int("N", 5, {"N": "7"}) == 7
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("N", 5, {"N": "seven"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("N", 5, {"N": "0"}, minimum=1)
    assert env_list("H", [], {"H": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("H", [], {"H": "a,,b"})
    assert env_url("U", "", {"U": ""}, allow_empty=True) == ""
    with pytest.raises(ImproperlyConfigured, match="is not a URL"):
        env_url("DATABASE_URL", "", {"DATABASE_URL": "mysql://x"}, schemes=("sqlite", "postgresql"))


# --- code rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "parent", "ok"),
    [
        ("430100", "city", None, True),
        ("430103", "county", "430100", True),
        ("430103", "county", "440100", False),
        ("43010", "county", None, False),
        ("430103002", "township", "430103", True),
        ("430111002", "township", "430103", False),
        ("430103002001", "community", "430103002", True),
        ("43010300200X", "community", None, False),
    ],
)
def test_division_codes(code: str, level: str, parent: str | None, ok: bool) -> None:
    assert codes.check_division_code(code, level, parent).ok is ok


def test_range_rules_are_warnings() -> None:
    check = codes.check_division_code("430111400498", "community", "430111400")
    assert check.ok
    assert check.warnings  # a virtual community of a development zone, outside 001–399


def test_grid_codes_and_kinds() -> None:
    assert codes.grid_cell_code("430103002001", 7) == "430103002001007"
    assert codes.check_grid_cell_code("430103002001007", "430103002001").ok
    assert not codes.check_grid_cell_code("430103002001000").ok
    assert not codes.check_grid_cell_code("430103002002007", "430103002001").ok
    assert codes.township_kind("430103014", "大托铺街道") == "街道"
    assert codes.township_kind("430111101", "跳马镇") == "镇"
    assert codes.community_kind("430103014201", "新港村委会") == "村"
    assert codes.short_community_name("八角亭社区居委会") == "八角亭社区"


# --- personal data ------------------------------------------------------------------------------------


def test_masking_in_free_text() -> None:
    assert mask_in_text("请联系13812345678，谢谢") == "请联系138****5678，谢谢"
    assert mask_in_text("身份证430103199001011234") == "身份证430103********1234"
    assert mask_in_text("身份证43010319900101123X。") == "身份证430103********123X。"
    # Not a phone or an ID: part of a longer number, a case number, a date, an amount.
    for text in ("430100-2026-000123", "138123456789", "2026-11-24 09:30", "金额 12345678901234567890 元"):
        assert mask_in_text(text) == text


def test_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0731-85551234") == "0731*****1234"
    assert mask_phone("") == ""
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_phone_is_encrypted_at_rest(world: World) -> None:
    user = world.u("tx_leader")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_digest FROM accounts_user WHERE id = %s", [user.pk])
        stored, digest = cursor.fetchone()
    assert digest == crypto.digest("13900000005")
    assert "13900000005" not in stored
    assert crypto.decrypt(stored) == "13900000005"
    assert User.objects.get(phone_digest=crypto.digest("139 0000 0005")).pk == user.pk


def test_revealing_a_phone_is_logged_and_needs_permission(world: World) -> None:
    member = world.u("tx_cg_handler")
    assert (
        staff_actions.do_reveal_phone(member, actor=world.u("tx_dispatcher"), purpose="urge") == "13900000009"
    )
    entry = PersonalDataAccess.objects.get()
    assert (entry.actor, entry.subject_id, entry.field, entry.purpose) == (
        world.u("tx_dispatcher"),
        str(member.pk),
        "phone",
        "urge",
    )
    with pytest.raises(PermissionDenied):
        staff_actions.do_reveal_phone(member, actor=world.u("tx_leader"))  # leaders see masked numbers
    with pytest.raises(PermissionDenied):
        staff_actions.do_reveal_phone(member, actor=world.u("yh_admin"))  # another district
    assert PersonalDataAccess.objects.count() == 1


# --- staff actions ------------------------------------------------------------------------------------


def test_grants_stay_inside_the_administrators_subtree(world: World) -> None:
    newcomer = staff_actions.do_create_staff(
        username="newcomer", full_name="新人", phone="13700000000", actor=world.u("tx_admin")
    )
    staff_actions.do_grant_role(
        newcomer, role=Role.GRID_WORKER, jurisdiction=world.j("430103002001"), actor=world.u("tx_admin")
    )
    with pytest.raises(PermissionDenied):
        staff_actions.do_grant_role(
            newcomer, role=Role.LEADER, jurisdiction=world.j("430111"), actor=world.u("tx_admin")
        )
    with pytest.raises(PermissionDenied):
        staff_actions.do_create_staff(username="x", full_name="x", actor=world.u("tx_leader"))
    assert list(newcomer.grants.values_list("role", flat=True)) == [Role.GRID_WORKER]


def test_unit_grant_takes_the_units_jurisdiction(world: World) -> None:
    unit = Unit.objects.get(code="430103-cg")
    grant = staff_actions.do_grant_role(world.u("nobody"), role=Role.HANDLER, unit=unit, actor=None)
    assert grant.jurisdiction == unit.jurisdiction
    with pytest.raises(ValidationError):
        staff_actions.do_grant_role(
            world.u("nobody"), role=Role.HANDLER, unit=unit, jurisdiction=world.j("430111"), actor=None
        )


def test_administrators_get_the_admin_site_and_lose_it_with_the_role(world: World) -> None:
    user = world.u("nobody")
    grant = staff_actions.do_grant_role(
        user, role=Role.ADMINISTRATOR, jurisdiction=world.j("430103"), actor=None
    )
    assert User.objects.get(pk=user.pk).is_staff
    staff_actions.do_revoke_role(grant, actor=None)
    assert not User.objects.get(pk=user.pk).is_staff


def test_bad_phone_is_refused_with_the_field(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        staff_actions.do_create_staff(username="p", full_name="p", phone="12345", actor=None)
    assert "phone" in caught.value.message_dict


def test_errors_come_in_the_users_language(world: World) -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        do_upsert_jurisdiction(
            code="430103002009", name="x", level="community", parent=world.j("430103"), actor=None
        )
    assert caught.value.message_dict["level"] == ["社区（村）不能直接隶属于区县。"]


def test_tree_rules(world: World) -> None:
    with pytest.raises(ValidationError, match="cannot lie directly under"):
        do_upsert_jurisdiction(
            code="430103002009", name="x", level="community", parent=world.j("430103"), actor=None
        )
    with pytest.raises(ValidationError):
        do_upsert_jurisdiction(
            code="430103002009",
            name="x",
            level="community",
            parent=world.j("430103002"),
            boundary={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            actor=None,
        )
    assert not Jurisdiction.objects.filter(code="430103002009").exists()


# --- login, lock-out, password change ------------------------------------------------------------------


def test_login_lockout_after_repeated_failures(world: World) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "tx_leader", "password": "wrong"})
    assert response.status_code in (200, 429)
    response = client.post("/accounts/login/", {"username": "tx_leader", "password": PASSWORD})
    assert response.status_code == 429  # locked: even the right password is refused for now
    other = Client(REMOTE_ADDR="10.9.9.9")  # the same account from elsewhere is not locked out
    assert other.post("/accounts/login/", {"username": "tx_leader", "password": PASSWORD}).status_code == 302


def test_login_and_logout(world: World) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "bjt_grid", "password": PASSWORD})
    assert response.status_code == 302
    assert "430103002001001" in client.get("/").content.decode()
    assert client.get("/accounts/logout/").status_code == 405  # logging out is a POST
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_keeps_errors_at_the_field(client_for: Callable[[str], Client]) -> None:
    client = client_for("bjt_grid")
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "a-New-passw0rd-2026", "new_password2": "different"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


# --- imports and the demo ------------------------------------------------------------------------------


def test_import_divisions_is_idempotent(db: None) -> None:
    out = io.StringIO()
    call_command("import_divisions", "430103", stdout=out)
    assert "14 townships, 99 communities; 115 created" in out.getvalue()
    call_command("import_divisions", "430103", stdout=out)
    assert Jurisdiction.objects.count() == 115
    assert Jurisdiction.objects.get(code="430103002001").path == "430100/430103/430103002/430103002001/"


def test_demo_district_loads_once(db: None) -> None:
    call_command("load_demo", cases=40, stdout=io.StringIO())
    counts = (
        Jurisdiction.objects.count(),
        Unit.objects.count(),
        User.objects.count(),
        GridCell.objects.count(),
        Building.objects.count(),
    )
    assert counts[0] == 115
    assert 99 * 3 <= counts[3] <= 99 * 8
    call_command("load_demo", cases=40, stdout=io.StringIO())
    assert counts == (
        Jurisdiction.objects.count(),
        Unit.objects.count(),
        User.objects.count(),
        GridCell.objects.count(),
        Building.objects.count(),
    )
    # Every community is covered by its cells and every cell has staff.
    assert not GridCell.objects.filter(leader__isnull=True).exists()
    assert not GridCell.objects.filter(workers__isnull=True).exists()
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    for role in Role:
        assert f" {role.value} " in out.getvalue()  # one login per role
    # The Open311 step: two requests from the demo client, once; its key (derived from the seed) works.
    from civicgrid.open311.models import ServiceRequest

    assert ServiceRequest.objects.count() == 2
    secret = out.getvalue().split("demo API key: ")[1].split()[0]
    services = Client().get("/open311/v2/services.json", {"api_key": secret})
    assert services.status_code == 200
    assert any(s["metadata"] for s in services.json())  # the street-light service asks questions
