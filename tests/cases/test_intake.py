"""Taking a case in: validation that names the field, idempotent retries, photos, the resident's phone
(encrypted, masked, revealed with a log), numbering."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from civicgrid.cases import actions as a
from civicgrid.cases.actions import PhotoUpload
from civicgrid.cases.models import Case, CaseEvent, CasePhoto
from civicgrid.core.models import PersonalDataAccess
from civicgrid.notifications.models import Notification
from tests.cases.helpers import build_catalog, new_case, unit
from tests.world import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_every_bad_field_is_named_at_once(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        a.do_create_case(
            channel="pigeon",
            nature="complaint",
            title="",
            description="  ",
            reporter_phone="12345",
            lon=112.91,
            actor=world.u("tx_hotline"),
        )
    assert set(exc.value.message_dict) == {
        "channel",
        "title",
        "description",
        "reporter_phone",
        "reporter_name",
        "location",
    }
    assert Case.objects.count() == 0


def test_errors_come_in_chinese_for_chinese_users(world: World) -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        a.do_create_case(
            channel="hotline",
            nature="complaint",
            title="",
            description="x",
            lon=112.91,
            lat=28.11,
            reporter_name="张三",
            actor=world.u("tx_hotline"),
        )
    assert exc.value.message_dict["title"] == ["这个字段是必填项。"]


def test_a_retry_with_the_same_key_returns_the_first_case(world: World) -> None:
    first = new_case(world, intake_key="app-7f3c")
    again, created = a.do_create_case(
        channel="hotline",
        nature="complaint",
        title="路面塌陷",
        description="重试",
        reporter_name="张三",
        lon=112.91,
        lat=28.11,
        intake_key="app-7f3c",
        actor=world.u("tx_hotline"),
    )
    assert (again.pk, created) == (first.pk, False)
    assert Case.objects.count() == 1
    with pytest.raises(ValidationError) as exc:  # someone else's key is not theirs to replay
        a.do_create_case(
            channel="hotline",
            nature="complaint",
            title="x",
            description="y",
            reporter_name="李",
            lon=112.91,
            lat=28.11,
            intake_key="app-7f3c",
            actor=world.u("pzj_window"),
        )
    assert "intake_key" in exc.value.message_dict


def test_numbers_are_unique_per_city_and_year(world: World) -> None:
    numbers = [new_case(world).number for _ in range(3)]
    year = numbers[0].split("-")[1]
    assert numbers == [f"430100-{year}-{n:06d}" for n in (1, 2, 3)]


def test_photos_are_checked_by_content(world: World, settings: object) -> None:
    case = new_case(world, photos=(PhotoUpload("现场.png", PNG), PhotoUpload("近景.jpg", JPEG)))
    assert sorted(CasePhoto.objects.filter(case=case).values_list("content_type", flat=True)) == [
        "image/jpeg",
        "image/png",
    ]
    with pytest.raises(ValidationError) as exc:
        new_case(world, photos=(PhotoUpload("病毒.jpg", b"MZ\x90\x00 not an image"),))
    assert "病毒.jpg" in exc.value.message_dict["photos"][0]
    settings.CASE_PHOTO_MAX_BYTES = 1024  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as exc:
        new_case(world, photos=(PhotoUpload("大图.png", PNG + b"\x00" * 2048),))
    assert "大图.png" in exc.value.message_dict["photos"][0]


def test_anonymous_and_events_without_a_resident(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        new_case(world, reporter_name="", reporter_phone="")
    assert "reporter_name" in exc.value.message_dict
    anonymous = new_case(world, reporter_name="", reporter_phone="", is_anonymous=True)
    assert not anonymous.needs_revisit
    assert not Notification.objects.filter(ref=f"case:{anonymous.pk}").exists()


def test_the_residents_phone_is_encrypted_masked_and_revealed_with_a_log(world: World) -> None:
    catalog = build_catalog()
    case = new_case(world, reporter_phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()[0]
    assert "13812345678" not in stored
    assert case.masked_reporter_phone == "138****5678"
    assert Case.objects.filter(reporter_phone_digest=case.reporter_phone_digest).count() == 1
    receipt = Notification.objects.get(kind="case.received")
    assert receipt.address == "13812345678"
    assert case.number in receipt.body

    assert a.do_reveal_reporter_phone(case, actor=world.u("tx_hotline"), purpose="回访") == "13812345678"
    assert PersonalDataAccess.objects.filter(subject_type="case", subject_id=str(case.pk)).count() == 1
    for username in ("bjt_building", "tx_cg_handler", "yh_admin", "tx_admin"):
        with pytest.raises(PermissionDenied):
            a.do_reveal_reporter_phone(case, actor=world.u(username))
    a.do_register(case, category=catalog.road, actor=None)
    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=None)
    # Once the case is theirs, the unit may call the resident back.
    assert a.do_reveal_reporter_phone(case, actor=world.u("tx_cg_handler")) == "13812345678"
    assert PersonalDataAccess.objects.filter(subject_type="case").count() == 2


def test_the_create_event_records_the_desk(world: World) -> None:
    case = new_case(world, actor="pzj_window", channel="window")
    event = CaseEvent.objects.get(case=case)
    assert (event.seq, event.code, event.actor, event.to_status) == (
        1,
        "create",
        world.u("pzj_window"),
        "received",
    )
    assert event.data["jurisdiction"] == "430103002"


def test_an_anonymous_residents_phone_stays_with_the_hotline(world: World) -> None:
    catalog = build_catalog()
    case = new_case(world, nature="report", is_anonymous=True, reporter_name="", reporter_phone="13755556666")
    a.do_register(case, category=catalog.road, actor=None)
    a.do_dispatch(case, lead=unit(world, "430103-cg"), actor=None)
    assert a.do_reveal_reporter_phone(case, actor=world.u("tx_hotline")) == "13755556666"
    with pytest.raises(PermissionDenied):
        a.do_reveal_reporter_phone(case, actor=world.u("tx_cg_handler"))
    assert not Notification.objects.filter(kind="case.received", ref=f"case:{case.pk}").exists()
