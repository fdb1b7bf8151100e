"""Every write of the Open311 door: API keys (issue, revoke, rate counting), the admin's settings, and a
posted service request — taken in through the case intake (``do_create_case``, actor None: a client is
not a staff member; the key says who sent it), so it gets the same validation, numbering, grid assignment,
clocks and idempotency as every other channel."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from civicgrid.accounts.permissions import can_administer_path
from civicgrid.cases.actions import do_create_case
from civicgrid.cases.models import Case, Category, Channel, Kind
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib import clock
from civicgrid.open311.models import (
    ApiKey,
    AttributeValue,
    Endpoint,
    RateWindow,
    ServiceAttribute,
    ServiceRequest,
    ServiceSetting,
    ServiceType,
)

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

KEY_PREFIX = "o311_"
_MAX_KEY_LENGTH = 128


def key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_platform_operator(actor: User | None) -> None:
    # Endpoints and services are city-wide settings: like the category catalogue, superusers only.
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only platform operators may change the Open311 settings."))


def _require_key_manager(actor: User | None, endpoint: Endpoint) -> None:
    if actor is not None and not can_administer_path(actor, endpoint.jurisdiction.path):
        raise PermissionDenied(_("You may only manage keys of endpoints within your own jurisdiction."))


# --- Settings (the admin) ------------------------------------------------------------------------------


@transaction.atomic
def do_save_endpoint(endpoint: Endpoint, *, actor: User | None) -> Endpoint:
    _require_platform_operator(actor)
    endpoint.code = (endpoint.code or "").strip()
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def do_save_service_setting(setting: ServiceSetting, *, actor: User | None) -> ServiceSetting:
    _require_platform_operator(actor)
    setting.full_clean()
    setting.save()
    return setting


@transaction.atomic
def do_save_service_attribute(attribute: ServiceAttribute, *, actor: User | None) -> ServiceAttribute:
    _require_platform_operator(actor)
    attribute.code = (attribute.code or "").strip()
    if not attribute.code or not attribute.code.replace("_", "").replace("-", "").isalnum():
        raise ValidationError({"code": _("Use letters, digits, “_” and “-” only.")})
    attribute.full_clean()
    attribute.save()
    return attribute


@transaction.atomic
def do_save_attribute_value(value: AttributeValue, *, actor: User | None) -> AttributeValue:
    _require_platform_operator(actor)
    value.key = (value.key or "").strip()
    value.full_clean()
    value.save()
    return value


@transaction.atomic
def do_delete_attribute_value(value: AttributeValue, *, actor: User | None) -> None:
    _require_platform_operator(actor)
    value.delete()


# --- Keys --------------------------------------------------------------------------------------------


@transaction.atomic
def do_issue_api_key(
    endpoint: Endpoint,
    *,
    name: str,
    contact: str = "",
    requests_per_minute: int = 60,
    secret: str | None = None,
    actor: User | None,
) -> tuple[ApiKey, str]:
    """A new key for a client of ``endpoint``: the row and the secret, which is not stored and cannot be
    shown again. ``secret`` is for the demo only (a key derived from the demo seed, printed by demo_logins);
    everyone else gets 256 random bits."""
    _require_key_manager(actor, endpoint)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [_("At most %(n)s characters, this has %(m)s.") % {"n": 100, "m": len(name)}]
    if requests_per_minute < 1:
        errors["requests_per_minute"] = [_("Allow at least one request a minute.")]
    if not endpoint.is_active:
        errors["endpoint"] = [_("This endpoint is not active.")]
    if secret is not None and (not secret.startswith(KEY_PREFIX) or len(secret) < 32):
        errors["secret"] = [
            _("A key starts with %(prefix)s and has at least 32 characters.") % {"prefix": KEY_PREFIX}
        ]
    if errors:
        raise ValidationError(errors)
    secret = secret or KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name,
        endpoint=endpoint,
        prefix=secret[:9],
        digest=key_digest(secret),
        contact=contact.strip()[:200],
        requests_per_minute=requests_per_minute,
        created_at=clock.now(),
        created_by=actor,
    )
    return key, secret


@transaction.atomic
def do_update_api_key(
    key: ApiKey, *, name: str, contact: str, requests_per_minute: int, actor: User | None
) -> ApiKey:
    _require_key_manager(actor, key.endpoint)
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    locked.name, locked.contact, locked.requests_per_minute = (
        name.strip(),
        contact.strip(),
        requests_per_minute,
    )
    if requests_per_minute < 1:
        raise ValidationError({"requests_per_minute": _("Allow at least one request a minute.")})
    locked.full_clean()
    locked.save(update_fields=["name", "contact", "requests_per_minute"])
    return locked


@transaction.atomic
def do_revoke_api_key(key: ApiKey, *, actor: User | None) -> ApiKey:
    """Revoke at once (the next request with it is a 403). Revoking twice keeps the first time."""
    _require_key_manager(actor, key.endpoint)
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = clock.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
    key.revoked_at, key.revoked_by = locked.revoked_at, locked.revoked_by
    return locked


def key_for_secret(secret: str) -> ApiKey | None:
    """The active key with this secret (None: unknown or revoked)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > _MAX_KEY_LENGTH:
        return None
    key = ApiKey.objects.select_related("endpoint").filter(digest=key_digest(secret)).first()
    if key is None or key.revoked_at is not None:
        return None
    return key


class RateLimited(Exception):  # noqa: N818 — reads as a state, like TransitionNotAllowed
    pass


def check_rate(key: ApiKey, *, at: datetime | None = None) -> None:
    """Count one request against the key's limit for the current minute; RateLimited when it is used up.
    One conditional UPDATE in the common case, so the count holds across every server process."""
    at = at or clock.now()
    minute = at.replace(second=0, microsecond=0)
    for _attempt in range(2):
        counted = RateWindow.objects.filter(
            api_key=key, minute=minute, count__lt=key.requests_per_minute
        ).update(count=F("count") + 1)
        if counted:
            return
        if RateWindow.objects.filter(api_key=key, minute=minute).exists():
            raise RateLimited
        try:
            with transaction.atomic():
                RateWindow.objects.create(api_key=key, minute=minute, count=1)
            # The first request of a minute also says the key is in use (at most one write a minute).
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=at)
            return
        except IntegrityError:  # another process opened the minute first: count on its row
            continue
    raise RateLimited


def do_prune_rate_windows(*, older_than: timedelta = timedelta(hours=1), actor: User | None) -> int:
    """Drop counters of minutes long past (the worker job ``open311.prune``)."""
    deleted, _rows = RateWindow.objects.filter(minute__lt=clock.now() - older_than).delete()
    return deleted


# --- Posting a request --------------------------------------------------------------------------------


@dataclass
class Submission:
    """A checked POST (see views.read_submission): everything do_create_case needs, plus the Open311 extras."""

    endpoint: Endpoint
    api_key: ApiKey
    category: Category
    title: str
    description: str
    lon: float | None
    lat: float | None
    place: Jurisdiction
    address: str
    address_id: str = ""
    zipcode: str = ""
    reporter_name: str = ""
    phone: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""
    answers: dict[str, str | list[str]] = field(default_factory=dict)
    service_type: str = ServiceType.REALTIME  # how the answer to the client is shaped
    service_notice: str = ""


# do_create_case's field names → the Open311 arguments a client knows.
ARGUMENT_OF_FIELD = {
    "reporter_phone": "phone",
    "reporter_name": "first_name",
    "title": "description",
    "location": "lat",
    "address": "address_string",
}


def do_submit_request(
    submission: Submission, *, idempotency_key: str = "", actor: User | None = None
) -> tuple[ServiceRequest, bool]:
    """Take a posted request in (channel Open311) and record its Open311 side, in one transaction. A retry
    with the same ``Idempotency-Key`` from the same key returns the first request and ``False``."""
    intake_key = f"open311:{submission.api_key.pk}:{idempotency_key}"[:80] if idempotency_key else None
    with transaction.atomic():
        case, created = do_create_case(
            channel=Channel.OPEN311,
            nature=submission.endpoint.default_nature,
            kind=Kind.APPEAL,
            category=submission.category,
            title=submission.title,
            description=submission.description,
            address=submission.address,
            lon=submission.lon,
            lat=submission.lat,
            jurisdiction=submission.place,
            reporter_name=submission.reporter_name,
            reporter_phone=submission.phone,
            is_anonymous=not (submission.reporter_name or submission.phone),
            intake_key=intake_key,
            actor=actor,
        )
        if not created:
            return _record_of(case), False
        record = ServiceRequest.objects.create(
            case=case,
            endpoint=submission.endpoint,
            api_key=submission.api_key,
            token=secrets.token_hex(16),
            email=submission.email,
            device_id=submission.device_id,
            account_id=submission.account_id,
            address_id=submission.address_id,
            zipcode=submission.zipcode,
            media_url=submission.media_url,
            attributes=submission.answers,
            created_at=case.received_at,
        )
    return record, True


def _record_of(case: Case) -> ServiceRequest:
    return ServiceRequest.objects.select_related("case").get(case=case)
