"""Who hears about a case change. Each function writes outbox rows inside the caller's transaction (the
worker delivers them after commit), so a change that rolls back never announces itself.

Recipients are found from role grants and the case capabilities of their roles — never role names — so
changing ROLE_CASE_CAPABILITIES changes who is told.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.accounts.models import RoleGrant, User
from civicgrid.accounts.permissions import ROLE_CASE_CAPABILITIES
from civicgrid.cases.workflow import Cap
from civicgrid.notifications.actions import do_enqueue_notification, new_notification
from civicgrid.notifications.models import Channel, Notification

if TYPE_CHECKING:
    from civicgrid.cases.models import Case
    from civicgrid.jurisdictions.models import Jurisdiction


_suppressed: ContextVar[bool] = ContextVar("civicgrid_notify_suppressed", default=False)


@contextmanager
def suppressed() -> Iterator[None]:
    """No messages inside the block: the demo loader replays two years of history, which nobody should
    be notified about today (and the worker should not deliver thousands of stale SMS on first start)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def _roles_with(cap: Cap) -> list[str]:
    return sorted(role for role, caps in ROLE_CASE_CAPABILITIES.items() if cap in caps)


def unit_staff(unit_id: int) -> list[User]:
    found = User.objects.filter(
        is_active=True, grants__unit_id=unit_id, grants__role__in=_roles_with(Cap.HANDLE)
    ).distinct()
    return _by_name(found)


def desk_staff(jurisdiction: Jurisdiction) -> list[User]:
    """The dispatch desk of a level: dispatch-capable grants on exactly that jurisdiction."""
    # The grants first, then their users by key: as one DISTINCT join, PostgreSQL chose a plan that took
    # about a second on tables filled in the same transaction (before statistics exist, as in the demo load).
    ids = set(
        RoleGrant.objects.filter(
            jurisdiction_id=jurisdiction.pk, role__in=_roles_with(Cap.DISPATCH)
        ).values_list("user_id", flat=True)
    )
    return _by_name(User.objects.filter(pk__in=sorted(ids), is_active=True)) if ids else []


def _by_name(users: QuerySet[User]) -> list[User]:
    # Sorted here rather than by the model's default ORDER BY username: with that, PostgreSQL may walk the
    # whole user table by name to find a desk's few people (it did, about a second each, on tables filled
    # in the same transaction, before statistics exist).
    return sorted(users.order_by(), key=lambda u: u.username)


def oversight_staff(case: Case) -> list[User]:
    """Supervision-capable staff of the nearest level above or at the case's level that has any."""
    codes = [c for c in case.level_path.split("/") if c]
    grants = RoleGrant.objects.filter(
        role__in=_roles_with(Cap.SUPERVISE), jurisdiction__code__in=codes, user__is_active=True
    ).values_list("user_id", "jurisdiction__path")
    by_path: dict[str, set[int]] = {}
    for user_id, path in grants:
        by_path.setdefault(path, set()).add(user_id)
    if not by_path:
        return []
    nearest = max(by_path, key=len)
    return list(User.objects.filter(pk__in=sorted(by_path[nearest])))


def tell(
    users: list[User], case: Case, kind: str, subject: str, body: str = "", *, dedupe: str | None = None
) -> int:
    """In-app messages to staff. ``dedupe`` makes a repeated firing (the worker re-running) a no-op."""
    if _suppressed.get():
        return 0
    sent = 0
    for user in users:
        row = do_enqueue_notification(
            channel=Channel.IN_APP,
            kind=kind,
            subject=f"[{case.number}] {subject}",
            body=body or case.title,
            recipient=user,
            ref=f"case:{case.pk}",
            data={"case": case.pk, "number": case.number},
            dedupe_key=f"{dedupe}:u{user.pk}" if dedupe else None,
            actor=None,
        )
        sent += row is not None
    return sent


def tell_resident(case: Case, kind: str, body: str) -> None:
    """An SMS to the resident, when they left a phone number."""
    row = resident_notice(case, kind, body)
    if row is not None:
        row.save(force_insert=True)


def resident_notice(case: Case, kind: str, body: str) -> Notification | None:
    """tell_resident's SMS, built but not saved (None: nobody to tell), for an action that writes it
    together with its own rows. The case must have its primary key."""
    if not case.reporter_phone or _suppressed.get():
        return None
    return new_notification(
        channel=Channel.SMS,
        kind=kind,
        subject=case.number,
        body=body,
        address=case.reporter_phone,
        ref=f"case:{case.pk}",
        data={"case": case.pk, "number": case.number},
    )


def receipt_text(case: Case) -> str:
    # Residents get the site's language (Chinese), whatever language the operator's screen is in.
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "Your request has been received, number %(number)s. We will reply within the time limit."
        ) % {"number": case.number}


def reply_text(case: Case) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Reply to your request %(number)s: %(reply)s") % {
            "number": case.number,
            "reply": case.reply[:300],
        }
