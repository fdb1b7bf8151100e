"""The hand-written SQL of the busiest paths (civicgrid.lib.sqlrows): it must write and read exactly what the
ORM would, and stay as few statements as it promises."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import signals
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from civicgrid.accounts.models import ApiToken, User
from civicgrid.accounts.permissions import forget_scope, scope_of
from civicgrid.accounts.tokens import do_issue_api_token, user_for_token
from civicgrid.cases import limits
from civicgrid.cases.actions import do_create_case
from civicgrid.cases.models import Case, CaseClock, CaseEvent, Stage, TimeLimit, TimeUnit
from civicgrid.lib import clock, sqlrows
from civicgrid.notifications.models import Channel, Notification
from tests.cases.helpers import BJT_POINT, new_case
from tests.world import World, build_world

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement is PostgreSQL's")


def _columns(row: Notification) -> dict[str, object]:
    values = {f.attname: getattr(row, f.attname) for f in Notification._meta.concrete_fields}
    for name in ("id", "created_at"):
        values.pop(name)
    return values


def _notice(recipient: User | None, **extra: object) -> Notification:
    at = clock.now().replace(microsecond=123456)
    return Notification(
        channel=Channel.SMS if recipient is None else Channel.IN_APP,
        kind="case.received",
        recipient=recipient,
        address="" if recipient else "13812345678",
        subject="430100-2026-000001",
        body="您的诉求已受理",
        ref="case:1",
        data={"case": 1, "number": "430100-2026-000001", "list": [1, "二"]},
        available_at=at + timedelta(hours=1),
        **extra,
    )


def test_insert_rows_writes_what_the_orm_writes(world: World) -> None:
    by_orm = [_notice(None), _notice(world.u("tx_hotline"))]
    for row in by_orm:
        row.save(force_insert=True)
    by_hand = [_notice(None), _notice(world.u("tx_hotline"))]
    sqlrows.insert_rows(by_hand)
    assert all(row.pk is not None and not row._state.adding for row in by_hand)
    for orm_row, hand_row in zip(by_orm, by_hand, strict=True):
        stored_orm = Notification.objects.get(pk=orm_row.pk)
        stored_hand = Notification.objects.get(pk=hand_row.pk)
        assert _columns(stored_hand) == _columns(stored_orm)
    # Encrypted at rest exactly as the ORM encrypts it (not the phone in clear).
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM notifications_notification WHERE id = %s", [by_hand[0].pk])
        assert "13812345678" not in cursor.fetchone()[0]


def test_a_type_the_fast_path_does_not_know_takes_the_orms_way(world: World) -> None:
    row = _notice(None)
    row.attempts = "3"  # a str for an integer column is converted as the ORM does
    sqlrows.insert_rows([row, _notice(None)])
    assert Notification.objects.get(pk=row.pk).attempts == 3


@postgres_only
def test_related_rows_go_in_one_statement_with_a_reserved_key(world: World) -> None:
    case = new_case(world)
    event = CaseEvent(
        case=case, seq=99, code="note", actor=world.u("tx_hotline"), at=clock.now(), data={"a": 1}
    )
    with CaptureQueriesContext(connection) as queries:
        sqlrows.insert_rows([event, _notice(None)])
    assert len(queries) == 1
    assert CaseEvent.objects.get(pk=event.pk).data == {"a": 1}


def test_nothing_listens_to_the_rows_written_by_hand() -> None:
    # insert_rows sends no signals; if a receiver is ever added for these models, it would be skipped.
    for model in (Case, CaseClock, CaseEvent, Notification):
        for signal in (signals.pre_save, signals.post_save):
            assert not signal.has_listeners(model), (model, signal)


def test_the_token_lookup_reads_what_the_orm_reads(world: World) -> None:
    user = world.u("tx_hotline")
    User.objects.filter(pk=user.pk).update(phone="13900001111")
    token, secret = do_issue_api_token(user, name="app", actor=None)
    found = user_for_token(secret)
    assert found is not None
    fresh = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(fresh, field.attname), field.name
    by_query = scope_of(found)  # primed by the token's own query on PostgreSQL
    forget_scope(found)
    assert scope_of(found) == by_query
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_an_intake_is_two_statements_and_a_retry_finds_the_first_case(settings: Settings) -> None:
    settings.CACHE_RECHECK_SECONDS = 60  # as in production: the grid, limits and calendar stay cached
    world = build_world()
    # One register-stage limit, whatever earlier transactional tests left of the migration's defaults.
    TimeLimit.objects.filter(stage=Stage.REGISTER).delete()
    TimeLimit.objects.create(stage=Stage.REGISTER, seq=0, value=Decimal("1"), unit=TimeUnit.WORK_DAY)
    limits.invalidate()
    values: dict[str, Any] = {
        "channel": "hotline",
        "nature": "complaint",
        "title": "路面塌陷",
        "description": "八角亭路口路面塌陷。",
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
        "lon": BJT_POINT[0],
        "lat": BJT_POINT[1],
        "intake_key": "app-1",
    }
    actor = world.u("tx_hotline")
    scope_of(actor)  # the request's scope comes with its token; here it is read first
    # The first intake loads the grid index, creates this year's counter and finds the key sequence.
    do_create_case(actor=actor, **{**values, "intake_key": "app-0"})
    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as queries:
        case, created = do_create_case(actor=actor, **values)
    statements = [q["sql"].split()[0] for q in queries]
    assert (created, statements) == (True, ["UPDATE", "WITH"])
    stored = Case.objects.get(pk=case.pk)
    assert (stored.number, stored.reporter_phone, stored.due_at) == (case.number, "13812345678", case.due_at)
    assert CaseClock.objects.filter(case=case).count() == 1
    assert list(CaseEvent.objects.filter(case=case).values_list("code", flat=True)) == ["create"]
    assert Notification.objects.filter(ref=f"case:{case.pk}", kind="case.received").count() == 1
    # A retry outside any transaction: the unique key stops it, nothing half-written stays behind.
    again, created = do_create_case(actor=actor, **values)
    assert (again.pk, created) == (case.pk, False)
    assert Case.objects.filter(intake_key="app-1").count() == 1
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(kind="case.received").count() == 2
