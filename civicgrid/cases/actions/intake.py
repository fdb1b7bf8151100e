"""Taking a case in (受理): validation, location → grid cell → jurisdiction, the owning level, the number,
idempotent retries, photos, and revealing the resident's phone."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.actions import check_phone
from civicgrid.accounts.permissions import can_report_at, can_view_reporter_phone, scope_of
from civicgrid.cases import changes, clocks, notify
from civicgrid.cases.actions.base import require_text
from civicgrid.cases.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePhoto,
    Category,
    Channel,
    HandlingClass,
    Kind,
    Nature,
    PhotoStage,
    Stage,
    Urgency,
)
from civicgrid.cases.workflow import Action, Cap, Status
from civicgrid.core import crypto
from civicgrid.core.actions import do_log_personal_data_access
from civicgrid.grids.lookup import locate_grid_cell, place_at
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib import clock, sqlrows

if TYPE_CHECKING:
    from civicgrid.accounts.models import User
    from civicgrid.grids.models import GridCell

# What an uploaded photo may be, recognised by its first bytes (the declared content type is not trusted).
T = TypeVar("T")

_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
MAX_PHOTOS = 9


@dataclass(frozen=True)
class PhotoUpload:
    name: str
    content: bytes


def check_photo(photo: PhotoUpload) -> str:
    """The photo's real content type; ValidationError naming the file when it is not an accepted image."""
    limit = settings.CASE_PHOTO_MAX_BYTES
    if len(photo.content) > limit:
        raise ValidationError(
            {
                "photos": _("%(name)s is larger than %(mb)s MB.")
                % {"name": photo.name, "mb": limit // (1024 * 1024)}
            }
        )
    if photo.content[:4] == b"RIFF" and photo.content[8:12] == b"WEBP":
        return "image/webp"
    for magic, content_type in _MAGIC:
        if photo.content.startswith(magic):
            return content_type
    raise ValidationError({"photos": _("%(name)s is not a JPEG, PNG or WebP image.") % {"name": photo.name}})


def next_case_number(city_code: str, year: int) -> str:
    """``430100-2026-000123``: unique per city and year (see _number_and_pk)."""
    return _number_and_pk(city_code, year, with_pk=False)[0]


def _number_and_pk(city_code: str, year: int, *, with_pk: bool) -> tuple[str, int | None]:
    """The next case number and, on PostgreSQL when ``with_pk``, the new case's primary key drawn from its
    sequence in the same statement (so the case and the rows pointing at it go in one INSERT). One
    ``UPDATE … RETURNING``: on the HTTP intake path no transaction is open, so the counter row is locked only
    for that statement and concurrent intakes do not queue behind each other (a failed intake leaves a gap
    in the numbers)."""
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    draw_pk = with_pk and connection.vendor == "postgresql"
    returning = "last, nextval(%s)" if draw_pk else "last, NULL"
    sql = f"UPDATE {table} SET last = last + 1 WHERE city_code = %s AND year = %s RETURNING {returning}"
    params: list[str | int] = [city_code, year]
    if draw_pk:
        params.append(sqlrows.pk_sequence(Case))
    for _attempt in range(2):
        with sqlrows.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is not None:
            return f"{city_code}-{year}-{row[0]:06d}", row[1]
        try:  # the first case of the city this year
            with transaction.atomic():
                CaseNumberCounter.objects.create(city_code=city_code, year=year, last=1)
            return f"{city_code}-{year}-{1:06d}", sqlrows.reserve_pk(Case) if with_pk else None
        except IntegrityError:  # another intake created the row first: count on it
            continue
    raise RuntimeError(f"no case number counter for {city_code}/{year}")


def _city_code(origin: Jurisdiction) -> str:
    return _city_code_of_path(origin.path)


def _prefixes(path: str) -> list[str]:
    """The paths of a jurisdiction's ancestors and itself, from the root: "430100/", "430100/430103/", …"""
    codes = [c for c in path.split("/") if c]
    return ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]


@lru_cache(maxsize=4096)
def _city_code_of_path(path: str) -> str:
    """The city-level code on a jurisdiction path (cached: paths and levels do not change under a case)."""
    codes = [c for c in path.split("/") if c]
    known = [place_at(prefix) for prefix in _prefixes(path)]
    if all(known):  # the grid index knows every place on a grid cell's path
        ancestors = {j.code: j.level for j in known if j is not None}
    else:
        ancestors = {
            j.code: j.level for j in Jurisdiction.objects.filter(code__in=codes).only("code", "level")
        }
    for code in codes:
        if ancestors.get(code) == Level.CITY:
            return code
    return codes[0]


def _locate(
    lon: float | None, lat: float | None, jurisdiction: Jurisdiction | None
) -> tuple[Jurisdiction, GridCell | None]:
    if (lon is None) != (lat is None):
        raise ValidationError({"location": _("Give both longitude and latitude, or neither.")})
    if lon is not None and lat is not None:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError({"location": _("The coordinates are out of range.")})
        cell = locate_grid_cell(lon, lat)
        if cell is not None:
            return cell.community, cell
        if jurisdiction is None:
            raise ValidationError(
                {"location": _("The point lies outside every grid cell; choose the community or street.")}
            )
        return jurisdiction, None
    if jurisdiction is None:
        raise ValidationError({"location": _("Give a point on the map or choose the community or street.")})
    return jurisdiction, None


def _owning_level(origin: Jurisdiction, actor: User | None) -> Jurisdiction:
    """首接负责: the case starts at the level of the desk that took it in — the deepest of the actor's
    grants (with the right to take cases in) that contains the place. Cases from the public (no actor)
    start at CASE_PUBLIC_INTAKE_LEVEL above the place (the county's hotline station by default)."""
    if actor is not None:
        scope = scope_of(actor)
        paths = [
            e.path for e in scope.entries if Cap.REPORT in e.case_caps and origin.path.startswith(e.path)
        ]
        if paths:
            deepest = max(paths, key=len)
            return place_at(deepest) or Jurisdiction.objects.get(path=deepest)
        if not scope.is_superuser:
            raise PermissionDenied(_("You may not take in cases for this place."))
    wanted = settings.CASE_PUBLIC_INTAKE_LEVEL
    known = [place_at(path) for path in _prefixes(origin.path)]
    chain = [j for j in known if j is not None] if all(known) else list(origin.ancestors_and_self())
    for node in reversed(chain):
        if node.level == wanted:
            return node
    return origin  # the place is above the wanted level (e.g. a whole county): it owns the case itself


@lru_cache(maxsize=16)
def _values_of(choices: type[models.TextChoices]) -> frozenset[str]:
    return frozenset(choices.values)  # Django's ``.values`` builds a new list on every call


def _choice(
    value: str,
    choices: type[Channel] | type[Nature] | type[Kind] | type[HandlingClass] | type[Urgency],
    field_name: str,
) -> str:
    if value not in _values_of(choices):
        raise ValidationError({field_name: _("“%(value)s” is not a valid choice.") % {"value": value}})
    return value


def do_create_case(
    *,
    channel: str,
    nature: str,
    title: str,
    description: str,
    kind: str = Kind.APPEAL,
    category: Category | None = None,
    handling_class: str = HandlingClass.PROMISED,
    urgency: str = Urgency.NORMAL,
    address: str = "",
    lon: float | None = None,
    lat: float | None = None,
    jurisdiction: Jurisdiction | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    is_anonymous: bool = False,
    photos: tuple[PhotoUpload, ...] = (),
    intake_key: str | None = None,
    actor: User | None,
) -> tuple[Case, bool]:
    """受理: record a case in ``received``. Returns ``(case, created)``; a retry with the same ``intake_key``
    by the same actor returns the first case and ``created=False`` — never a duplicate."""
    # A retry is recognised by the unique intake key when the case is written (see the end): looking for
    # the key first would cost every intake a round trip for the rare retry.
    intake_key = intake_key.strip()[:80] if intake_key else None
    errors: dict[str, list[str]] = {}

    def attempt(check: Callable[[], T]) -> T | None:
        """Run one check; collect its errors so the resident's whole form is answered at once."""
        try:
            return check()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
            return None

    clean_title = attempt(lambda: require_text(title, "title", max_length=200))
    clean_description = attempt(lambda: require_text(description, "description", max_length=20000))
    for value, choices, name in (
        (channel, Channel, "channel"),
        (nature, Nature, "nature"),
        (kind, Kind, "kind"),
        (handling_class, HandlingClass, "handling_class"),
        (urgency, Urgency, "urgency"),
    ):
        attempt(lambda v=value, c=choices, n=name: _choice(v, c, n))  # type: ignore[misc]
    phone = attempt(lambda: _phone(reporter_phone)) or ""
    where = attempt(lambda: _locate(lon, lat, jurisdiction))
    if len(photos) > MAX_PHOTOS:
        errors.setdefault("photos", []).append(_("At most %(n)s photos.") % {"n": MAX_PHOTOS})
    photo_types = [attempt(lambda p=photo: check_photo(p)) for photo in photos[:MAX_PHOTOS]]  # type: ignore[misc]
    if len(address) > 200:
        errors.setdefault("address", []).append(_("At most 200 characters."))
    if kind == Kind.APPEAL and not is_anonymous and not reporter_name.strip() and not phone:
        errors.setdefault("reporter_name", []).append(
            _("Give the resident's name or phone, or mark the request anonymous.")
        )
    if category is not None and not category.is_active:
        errors.setdefault("category", []).append(_("This category is no longer in use."))
    if errors or clean_title is None or clean_description is None or where is None:
        raise ValidationError(errors)

    origin, cell = where
    if actor is not None and not can_report_at(actor, origin.path):
        raise PermissionDenied(_("You may not take in cases for this place."))
    level_node = _owning_level(origin, actor)
    at = clock.now()
    # The number (and on PostgreSQL the case's key) is drawn before the intake's writes; a failed intake
    # leaves a gap in the numbers.
    number, pk = _number_and_pk(_city_code(origin), timezone.localtime(at).year, with_pk=True)
    case = Case(
        pk=pk,
        number=number,
        kind=kind,
        channel=channel,
        nature=nature,
        category=category,
        handling_class=handling_class,
        urgency=urgency,
        title=clean_title,
        description=clean_description,
        address=address.strip(),
        lon=lon,
        lat=lat,
        grid_cell=cell,
        origin=origin,
        origin_path=origin.path,
        jurisdiction=level_node,
        level=level_node.level,
        level_path=level_node.path,
        reporter_name=reporter_name.strip()[:64],
        reporter_phone=phone,
        reporter_phone_digest=crypto.digest(phone) if phone else "",
        is_anonymous=is_anonymous,
        needs_revisit=kind == Kind.APPEAL and bool(phone),
        status=Status.RECEIVED,
        version=1,
        intake_key=intake_key or None,
        created_by=actor,
        received_at=at,
        updated_at=at,
    )
    # The clocks are worked out first, so the case row is written once, with its due columns.
    planned = clocks.plan_clocks(case, Stage.REGISTER, at=at)
    clocks.refresh_due(case, at=at, running_clocks=planned)
    # With its key drawn, the case and everything written with it (clocks, the event, the resident's SMS)
    # is one statement on PostgreSQL, atomic by itself; otherwise (SQLite, photos, inside a caller's
    # transaction, where a failure must roll back only this intake) one transaction or savepoint.
    one_statement = pk is not None and not photos and not connection.in_atomic_block
    try:
        with nullcontext() if one_statement else transaction.atomic():
            if pk is None:
                case.save(force_insert=True)
            event = CaseEvent(
                case=case,
                seq=1,
                code=str(Action.CREATE),
                actor=actor,
                at=at,
                from_status="",
                to_status=Status.RECEIVED,
                data={"channel": channel, "level": level_node.level, "jurisdiction": level_node.code},
            )
            rows: list[models.Model] = [] if pk is None else [case]  # without a key it is saved already
            rows += [*clocks.prepare_planned(case, planned), event, *changes.new_case_rows([case])]
            if not is_anonymous:
                notice = notify.resident_notice(case, "case.received", notify.receipt_text(case))
                rows += [] if notice is None else [notice]
            sqlrows.insert_rows(rows)
            for photo, content_type in zip(photos, photo_types, strict=True):
                _save_photo(case, photo, content_type or "", PhotoStage.INTAKE, actor=actor, at=at)
    except IntegrityError:
        # A retry (or two copies racing): the first one created the case. The retry drew a number for
        # nothing, which leaves a gap like any failed intake.
        if intake_key:
            existing = _existing(intake_key, actor)
            if existing is not None:
                return existing, False
        raise
    return case, True


def _phone(value: str) -> str:
    try:
        return check_phone(value)
    except ValidationError:
        raise ValidationError(
            {"reporter_phone": _("Enter an 11-digit mobile number or a landline with its area code.")}
        ) from None


def _existing(intake_key: str, actor: User | None) -> Case | None:
    # Two columns by hand-written SQL first: nearly every key is new, and this runs on every intake; the
    # whole row is read only for a real retry.
    table = connection.ops.quote_name(Case._meta.db_table)
    with sqlrows.cursor() as cursor:
        cursor.execute(f"SELECT id, created_by_id FROM {table} WHERE intake_key = %s", [intake_key])
        found = cursor.fetchone()
    if found is None:
        return None
    pk, created_by_id = found
    if created_by_id != (actor.pk if actor else None):
        raise ValidationError({"intake_key": _("This idempotency key was already used by someone else.")})
    return Case.objects.get(pk=pk)


def _save_photo(
    case: Case, photo: PhotoUpload, content_type: str, stage: str, *, actor: User | None, at: datetime
) -> CasePhoto:
    from django.core.files.base import ContentFile

    digest = hashlib.sha256(photo.content).hexdigest()
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[content_type]
    record = CasePhoto(
        case=case,
        stage=stage,
        content_type=content_type,
        size=len(photo.content),
        sha256=digest,
        uploaded_by=actor,
        at=at,
    )
    record.file.save(f"{case.number}-{digest[:12]}.{extension}", ContentFile(photo.content), save=False)
    record.save()
    return record


def do_reveal_reporter_phone(case: Case, *, actor: User, purpose: str = "") -> str:
    """The resident's unmasked phone for a permitted user; every call is logged."""
    if not can_view_reporter_phone(actor, case):
        raise PermissionDenied(_("You may not see this resident's phone number."))
    with transaction.atomic():
        do_log_personal_data_access(
            actor=actor, subject_type="case", subject_id=case.pk, field="reporter_phone", purpose=purpose
        )
    return case.reporter_phone or ""


__all__ = ["PhotoUpload", "check_photo", "do_create_case", "do_reveal_reporter_phone", "next_case_number"]
