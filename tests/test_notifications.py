"""The notification outbox: enqueueing inside the caller's transaction, delivery, retries, leases."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import ClassVar
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.db.models import QuerySet
from django.test import override_settings
from django.utils import timezone

from civicgrid.accounts.actions import do_create_staff, do_update_staff
from civicgrid.accounts.models import User
from civicgrid.notifications import delivery
from civicgrid.notifications.actions import do_enqueue_notification, do_mark_read
from civicgrid.notifications.backends import check_backend_settings
from civicgrid.notifications.models import Channel, Notification, Status

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(480))
HERE = "tests.test_notifications"


class RecordingBackend:
    """Counts sends per notification id; safe to use from several threads at once."""

    lock = threading.Lock()
    sends: ClassVar[Counter[int]] = Counter()
    senders: ClassVar[Counter[str]] = Counter()
    delay = 0.0

    def send(self, notification: Notification) -> None:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.sends[notification.pk] += 1
            self.senders[notification.claimed_by] += 1


class FailingBackend:
    calls = 0

    def send(self, notification: Notification) -> None:
        FailingBackend.calls += 1
        raise ConnectionError("gateway 13812345678 unreachable" + "!" * 5000)


DEFAULT_BACKENDS = {
    "in_app": "civicgrid.notifications.backends.InAppBackend",
    "sms": "civicgrid.notifications.backends.LogBackend",
    "email": "civicgrid.notifications.backends.LogBackend",
}
RECORDING = {channel.value: f"{HERE}.RecordingBackend" for channel in Channel}
FAILING = {channel.value: f"{HERE}.FailingBackend" for channel in Channel}


@pytest.fixture(autouse=True)
def _reset_backends() -> None:
    RecordingBackend.sends.clear()
    RecordingBackend.senders.clear()
    RecordingBackend.delay = 0.0
    FailingBackend.calls = 0


@pytest.fixture
def staff(db: None) -> User:
    return do_create_staff(username="bjt_grid", full_name="网格员", phone="13900000013", actor=None)


def sms_to_resident(phone: str = "13812345678", **kwargs: object) -> Notification:
    params: dict[str, object] = {
        "channel": Channel.SMS,
        "kind": "case.accepted",
        "subject": "您的诉求已受理",
        "body": "案件编号 2025-0001",
        "address": phone,
        "ref": "case:1",
        "available_at": T0,
        "actor": None,
    }
    params.update(kwargs)
    row = do_enqueue_notification(**params)  # type: ignore[arg-type]
    assert row is not None
    return row


# --- enqueueing -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_rolls_back_with_the_callers_transaction() -> None:
    def case_action() -> None:
        with transaction.atomic():
            sms_to_resident()
            raise RuntimeError("the case action failed after enqueueing")

    with pytest.raises(RuntimeError):
        case_action()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_enqueue_stores_the_address_encrypted_and_sends_nothing() -> None:
    row = sms_to_resident()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    raw = Notification.objects.filter(pk=row.pk).values_list("address", flat=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM notifications_notification WHERE id = %s", [row.pk])
        (stored,) = cursor.fetchone()
    assert "13812345678" not in stored
    assert list(raw) == ["13812345678"]
    assert not RecordingBackend.sends


@pytest.mark.django_db
def test_dedupe_key_enqueues_once_and_keeps_the_callers_transaction(staff: User) -> None:
    with transaction.atomic():
        first = sms_to_resident(dedupe_key="case:1:overdue")
        second = do_enqueue_notification(
            channel=Channel.IN_APP,
            kind="case.overdue",
            subject="超期",
            body="",
            recipient=staff,
            dedupe_key="case:1:overdue",
            actor=None,
        )
        assert second is None
        # The caller's transaction still works after the refused insert.
        sms_to_resident(kind="case.closed")
    assert first is not None
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_dedupe_race_is_absorbed_in_a_savepoint() -> None:
    """Two transactions pass the existence check together: the loser's insert fails on the unique key,
    only its savepoint rolls back, and the caller carries on."""
    sms_to_resident(dedupe_key="case:1:warn")
    with transaction.atomic():
        with mock.patch.object(QuerySet, "exists", side_effect=[False, True]):
            assert sms_to_resident_or_none(dedupe_key="case:1:warn") is None
        assert Notification.objects.count() == 1
        sms_to_resident(kind="case.closed")
    assert Notification.objects.count() == 2


def sms_to_resident_or_none(**kwargs: object) -> Notification | None:
    return do_enqueue_notification(
        channel=Channel.SMS,
        kind="case.warn",
        subject="s",
        body="",
        address="13812345678",
        actor=None,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.django_db
def test_enqueue_needs_exactly_one_destination(staff: User) -> None:
    common = {"kind": "case.x", "subject": "s", "body": "", "actor": None}
    with pytest.raises(ValidationError, match="either a recipient or an address"):
        do_enqueue_notification(channel=Channel.SMS, **common)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="either a recipient or an address"):
        do_enqueue_notification(channel=Channel.SMS, recipient=staff, address="13812345678", **common)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="in-app message needs a staff recipient"):
        do_enqueue_notification(channel=Channel.IN_APP, address="13812345678", **common)  # type: ignore[arg-type]
    long_subject = do_enqueue_notification(
        channel=Channel.IN_APP, recipient=staff, kind="case.x", subject="长" * 300, body="", actor=None
    )
    assert long_subject is not None
    assert len(long_subject.subject) == 200


@pytest.mark.django_db
def test_only_the_recipient_marks_read_and_twice_keeps_the_first_time(staff: User) -> None:
    other = do_create_staff(username="other", full_name="other", actor=None)
    row = do_enqueue_notification(
        channel=Channel.IN_APP, kind="case.dispatched", subject="新案件", body="", recipient=staff, actor=None
    )
    assert row is not None
    with pytest.raises(PermissionDenied):
        do_mark_read(row, actor=other)
    with pytest.raises(PermissionDenied):
        do_mark_read(row, actor=None)
    first = do_mark_read(row, actor=staff).read_at
    assert first is not None
    assert do_mark_read(Notification.objects.get(pk=row.pk), actor=staff).read_at == first


# --- delivery -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(NOTIFICATION_BACKENDS=RECORDING)
def test_deliver_sends_due_rows_once(staff: User) -> None:
    a = sms_to_resident()
    b = do_enqueue_notification(
        channel=Channel.IN_APP,
        kind="case.dispatched",
        subject="新案件",
        body="",
        recipient=staff,
        available_at=T0,
        actor=None,
    )
    later = sms_to_resident(available_at=T0 + timedelta(hours=1))
    assert b is not None

    assert delivery.deliver_pending(worker_id="w1", now=T0 + timedelta(seconds=1)) == 2
    assert delivery.deliver_pending(worker_id="w1", now=T0 + timedelta(seconds=2)) == 0
    assert RecordingBackend.sends == Counter({a.pk: 1, b.pk: 1})
    a.refresh_from_db()
    assert (a.status, a.attempts, a.sent_at, a.claimed_until) == (
        Status.SENT,
        1,
        T0 + timedelta(seconds=1),
        None,
    )
    assert Notification.objects.get(pk=later.pk).status == Status.PENDING

    assert delivery.deliver_pending(worker_id="w2", now=T0 + timedelta(hours=2)) == 1
    assert RecordingBackend.sends == Counter({a.pk: 1, b.pk: 1, later.pk: 1})


@pytest.mark.django_db
@override_settings(NOTIFICATION_BACKENDS=DEFAULT_BACKENDS)
def test_log_backend_masks_the_phone(staff: User, caplog: pytest.LogCaptureFixture) -> None:
    sms_to_resident()
    sms_to_resident(address="", recipient=staff)
    with caplog.at_level("INFO", logger="civicgrid.notifications"):
        assert delivery.deliver_pending(worker_id="w1", now=T0 + timedelta(seconds=1)) == 2
    text = caplog.text
    assert "138****5678" in text
    assert "139****0013" in text
    assert "13812345678" not in text
    assert "13900000013" not in text
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.django_db
@override_settings(
    NOTIFICATION_BACKENDS={**RECORDING, "email": "civicgrid.notifications.backends.EmailBackend"}
)
def test_email_backend_sends_to_the_recipients_current_address(staff: User) -> None:
    row = do_enqueue_notification(
        channel=Channel.EMAIL,
        kind="case.dispatched",
        subject="新案件",
        body="正文",
        recipient=staff,
        actor=None,
    )
    assert row is not None
    User.objects.filter(pk=staff.pk).update(email="grid@example.org")  # changed after enqueueing
    delivery.deliver_pending(worker_id="w1")
    assert [m.to for m in mail.outbox] == [["grid@example.org"]]
    assert Notification.objects.get(pk=row.pk).status == Status.SENT


@pytest.mark.django_db
def test_missing_phone_or_deactivated_recipient_is_given_up_at_once(staff: User) -> None:
    no_phone = do_create_staff(username="nophone", full_name="nophone", actor=None)
    rows = [
        do_enqueue_notification(
            channel=Channel.SMS, kind="case.x", subject="s", body="", recipient=user, actor=None
        )
        for user in (no_phone, staff)
    ]
    do_update_staff(staff, full_name=staff.full_name, phone="13900000013", is_active=False, actor=None)
    assert delivery.deliver_pending(worker_id="w1") == 2
    errors = {
        row.pk: (row.status, row.attempts, row.last_error)
        for row in Notification.objects.filter(pk__in=[r.pk for r in rows if r])
    }
    assert errors[rows[0].pk][:2] == (Status.DEAD, 1)  # type: ignore[union-attr]
    assert "has no mobile phone" in errors[rows[0].pk][2]  # type: ignore[union-attr]
    assert "is deactivated" in errors[rows[1].pk][2]  # type: ignore[union-attr]


@pytest.mark.django_db
@override_settings(NOTIFICATION_BACKENDS=FAILING)
def test_failures_back_off_exponentially_then_give_up() -> None:
    row = sms_to_resident()
    now = T0
    waits = []
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        # Not yet due a moment before the back-off ends.
        assert delivery.deliver_pending(worker_id="w1", now=now - timedelta(seconds=1)) == 0
        assert delivery.deliver_pending(worker_id="w1", now=now) == 1
        row.refresh_from_db()
        assert row.attempts == attempt
        assert row.last_error.startswith("ConnectionError: gateway")
        assert len(row.last_error) == delivery.ERROR_LIMIT
        waits.append(row.available_at - now)
        now = row.available_at
    assert row.status == Status.DEAD
    assert [int(w.total_seconds()) for w in waits[:-1]] == [60, 120, 240, 480, 960, 1920, 3600]
    assert delivery.deliver_pending(worker_id="w1", now=now + timedelta(days=1)) == 0
    assert FailingBackend.calls == delivery.MAX_ATTEMPTS


@pytest.mark.django_db
@override_settings(NOTIFICATION_BACKENDS=RECORDING)
def test_an_expired_lease_is_taken_over() -> None:
    row = sms_to_resident()
    # Worker A claims the row and dies before sending.
    assert [r.pk for r in delivery.claim_due(worker_id="A", batch=10, now=T0)] == [row.pk]
    assert delivery.deliver_pending(worker_id="B", now=T0 + timedelta(seconds=59)) == 0
    assert delivery.deliver_pending(worker_id="B", now=T0 + timedelta(seconds=61)) == 1
    row.refresh_from_db()
    assert (row.status, row.claimed_by, row.attempts) == (Status.SENT, "B", 2)
    assert RecordingBackend.sends == Counter({row.pk: 1})


@pytest.mark.django_db
@override_settings(NOTIFICATION_BACKENDS=RECORDING)
def test_a_row_whose_worker_keeps_dying_is_given_up() -> None:
    row = sms_to_resident()
    now = T0
    for _ in range(delivery.MAX_ATTEMPTS):
        assert delivery.claim_due(worker_id="crashing", batch=10, now=now)
        now += delivery.LEASE + timedelta(seconds=1)
    assert delivery.deliver_pending(worker_id="B", now=now) == 1
    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.DEAD, "no result reported")
    assert not RecordingBackend.sends


class StallingBackend:
    """Worker A's send stalls past its lease; meanwhile worker B takes the row over and sends it."""

    calls: ClassVar[list[str]] = []

    def send(self, notification: Notification) -> None:
        StallingBackend.calls.append(notification.claimed_by)
        if notification.claimed_by == "A":
            assert delivery.deliver_pending(worker_id="B", now=T0 + timedelta(minutes=2)) == 1
            raise TimeoutError("A's gateway call finally timed out")


@pytest.mark.django_db
@override_settings(NOTIFICATION_BACKENDS={channel.value: f"{HERE}.StallingBackend" for channel in Channel})
def test_a_result_from_a_worker_whose_claim_was_taken_over_is_ignored() -> None:
    StallingBackend.calls.clear()
    row = sms_to_resident()
    assert delivery.deliver_pending(worker_id="A", now=T0) == 1
    row.refresh_from_db()
    # B's success stands; A's late failure did not turn it into a retry.
    assert (row.status, row.claimed_by, row.last_error, row.sent_at) == (
        Status.SENT,
        "B",
        "",
        T0 + timedelta(minutes=2),
    )
    assert StallingBackend.calls == ["A", "B"]


class SlowClockBackend:
    """Each send takes 30 s of a fake clock."""

    clock: ClassVar[list[datetime]] = [T0]

    def send(self, notification: Notification) -> None:
        SlowClockBackend.clock[0] += timedelta(seconds=30)


@pytest.mark.django_db
@override_settings(NOTIFICATION_BACKENDS={channel.value: f"{HERE}.SlowClockBackend" for channel in Channel})
def test_a_slow_batch_hands_back_rows_before_its_lease_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [sms_to_resident(kind=f"case.{i}") for i in range(3)]
    SlowClockBackend.clock[0] = T0
    monkeypatch.setattr("django.utils.timezone.now", lambda: SlowClockBackend.clock[0])
    # 0 s: send; 30 s: send; 60 s: past the lease minus the margin, so the third goes back unsent.
    assert delivery.deliver_pending(worker_id="w1") == 2
    statuses = [Notification.objects.get(pk=r.pk) for r in rows]
    assert [(n.status, n.attempts, n.claimed_until) for n in statuses] == [
        (Status.SENT, 1, None),
        (Status.SENT, 1, None),
        (Status.PENDING, 0, None),
    ]


def test_a_backend_path_that_cannot_be_imported_fails_loudly() -> None:
    with (
        override_settings(NOTIFICATION_BACKENDS={**RECORDING, "sms": "civicgrid.nowhere.SmsBackend"}),
        pytest.raises(ImproperlyConfigured, match=r"NOTIFY_SMS_BACKEND='civicgrid\.nowhere\.SmsBackend'"),
    ):
        check_backend_settings()
    with override_settings(NOTIFICATION_BACKENDS=RECORDING):
        check_backend_settings()


# --- several workers at once (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@override_settings(NOTIFICATION_BACKENDS=RECORDING)
def test_two_workers_deliver_every_row_exactly_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (SELECT … FOR UPDATE SKIP LOCKED); SQLite runs one writer at a time")
    pks = [sms_to_resident(kind="case.bulk", available_at=None).pk for _ in range(500)]
    RecordingBackend.delay = 0.001  # so the two workers' batches interleave
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker_id: str) -> None:
        try:
            start.wait()
            while delivery.deliver_pending(worker_id=worker_id, batch=20):
                pass
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(RecordingBackend.sends) == sorted(pks)
    assert set(RecordingBackend.sends.values()) == {1}
    assert set(RecordingBackend.senders) == {"w1", "w2"}
    assert Notification.objects.filter(status=Status.SENT).count() == 500
