"""Every write of the service window: the catalogue (from the admin), centre details, and visits.

Visits follow a small table (TRANSITIONS). Registration decides the first status from the outcome:
受理 → registered (the promised date runs), 即办 → done, 一次性告知 / 不予受理 → closed (nothing is owed).
Each change locks the visit row, checks the table and the actor's scope, writes the new status and appends
a ``VisitEvent`` — in one transaction, so a visit's history is gap-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.accounts.actions import check_phone
from civicgrid.accounts.permissions import can_administer_path
from civicgrid.cases.models import HandlingClass
from civicgrid.core import crypto
from civicgrid.jurisdictions.models import Jurisdiction, Unit
from civicgrid.lib import clock
from civicgrid.lib.workcalendar import WorkCalendar
from civicgrid.services.models import (
    LimitUnit,
    Outcome,
    RequiredMaterial,
    ServiceCenterProfile,
    ServiceItem,
    VisitAction,
    VisitEvent,
    VisitNumberCounter,
    VisitStatus,
    WindowVisit,
)
from civicgrid.services.queries import service_centers_for, visible_visits
from civicgrid.workcalendar.calendar import current_calendar

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

# action → (the statuses it may start from, the status it leads to). Registration is not in the table: it
# creates the visit in the status its outcome implies (FIRST_STATUS).
TRANSITIONS: dict[VisitAction, tuple[frozenset[str], VisitStatus]] = {
    VisitAction.START: (frozenset({VisitStatus.REGISTERED}), VisitStatus.IN_PROGRESS),
    VisitAction.COMPLETE: (frozenset({VisitStatus.REGISTERED, VisitStatus.IN_PROGRESS}), VisitStatus.DONE),
    VisitAction.COLLECT: (frozenset({VisitStatus.DONE}), VisitStatus.COLLECTED),
}
FIRST_STATUS: dict[Outcome, VisitStatus] = {
    Outcome.ACCEPTED: VisitStatus.REGISTERED,
    Outcome.INSTANT: VisitStatus.DONE,
    Outcome.NOTICE: VisitStatus.CLOSED,
    Outcome.REFUSED: VisitStatus.CLOSED,
}
NAME_MAX = 64
NOTE_MAX = 1000


def allowed_actions(visit: WindowVisit) -> list[VisitAction]:
    """The table's actions open to the visit's status (the scope is checked by the actions)."""
    return [action for action, (sources, _target) in TRANSITIONS.items() if visit.status in sources]


# --- Checks -----------------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_18 = re.compile(r"^\d{17}[\dX]$")


def check_id_number(value: str) -> str:
    """A resident identity card number (GB 11643: 18 characters, the last a checksum); "" is allowed."""
    number = "".join(value.split()).upper()
    if not number:
        return ""
    if not _ID_18.match(number):
        raise ValidationError({"id_number": _("Enter the 18-character ID number.")})
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        raise ValidationError({"id_number": _("This ID number's check digit is wrong: please check it.")})
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError({"id_number": _("This ID number holds no valid date of birth.")}) from None
    return number


def _text(value: str, field: str, errors: dict[str, str], *, max_length: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > max_length:
        errors[field] = _("At most %(n)s characters, this has %(m)s.") % {"n": max_length, "m": len(text)}
    return text


# --- Time limits --------------------------------------------------------------------------------------------


def promised_deadline(start: datetime, value: int, unit: str, cal: WorkCalendar | None = None) -> datetime:
    """The end (next local midnight) of the promised completion day.

    The day of registration is not counted: ``value`` working days from a Monday morning end on the
    ``value``-th following working day; from a weekend or holiday they count from the next working day.
    For calendar days, a last day that is not a working day moves to the next working day (民法典 第二百零三条:
    a period ending on a statutory holiday ends on the day after it). 0: the day of registration itself.
    """
    cal = cal or current_calendar()
    if value:
        end = cal.add(start, value, unit)
        # The earliest instant after ``value`` full units; a deadline at midnight belongs to the day before.
        day = (end - timedelta(microseconds=1)).astimezone(cal.tz).date()
        if unit == LimitUnit.NATURAL_DAY:
            while not cal.is_working_day(day):
                day += timedelta(days=1)
    else:
        day = start.astimezone(cal.tz).date()
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=cal.tz)


def responsible_unit_for(item: ServiceItem, center: Unit) -> Unit | None:
    """The unit of the item's unit type at the item's level above (or at) the centre: e.g. 高龄津贴 (民政,
    county) taken in at 坡子街 → 天心区民政局. None when the item names no type or no such unit exists."""
    if item.unit_type_id is None:
        return None
    codes = [c for c in center.jurisdiction.path.split("/") if c]
    place = Jurisdiction.objects.filter(code__in=codes, level=item.level).first()
    if place is None:
        return None
    return (
        Unit.objects.filter(unit_type_id=item.unit_type_id, jurisdiction=place, is_active=True)
        .order_by("sort_order", "code")
        .first()
    )


# --- Visits ---------------------------------------------------------------------------------------------------


def _next_number(day: date) -> str:
    """``W202609300007``: W, the local date, the day's sequence (4 digits, more if ever needed). The day's
    counter row stays locked until the registration commits, so numbers are unique and in order."""
    counter = VisitNumberCounter.objects.select_for_update().filter(day=day).first()
    if counter is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent first visit of the day may win the insert
                counter = VisitNumberCounter.objects.create(day=day, last=0)
        except IntegrityError:
            counter = VisitNumberCounter.objects.select_for_update().get(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"W{day:%Y%m%d}{counter.last:04d}"


def _check_outcome(
    outcome: str, item: ServiceItem, missing: list[str], reason: str, errors: dict[str, str]
) -> None:
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose an outcome.")
        return
    if outcome in (Outcome.ACCEPTED, Outcome.INSTANT) and missing:
        errors["outcome"] = _(
            "Required materials are missing (%(names)s): give the one-time notice instead."
        ) % {"names": pgettext("list separator", ", ").join(missing)}
    elif outcome == Outcome.INSTANT and item.handling_class != HandlingClass.INSTANT:
        errors["outcome"] = _(
            "Only items handled on the spot (即办件) can be done at once: accept it instead."
        )
    elif outcome == Outcome.NOTICE and not missing:
        errors["outcome"] = _("No required material is missing: accept the application instead.")
    if outcome == Outcome.REFUSED and not reason:
        errors["refusal_reason"] = _("Give the reason for refusing the application.")


@transaction.atomic
def do_register_visit(
    *,
    item: ServiceItem,
    service_center: Unit,
    applicant_name: str,
    applicant_phone: str,
    id_number: str = "",
    received: Iterable[int] = (),
    outcome: str,
    refusal_reason: str = "",
    note: str = "",
    actor: User | None,
) -> WindowVisit:
    """Register a resident's visit for ``item`` at ``service_center`` with the materials they brought.

    Rules: every required material present → 受理 (or 即办 for a 即办件); any missing → 一次性告知 (the
    notice lists all materials, the missing ones marked); 不予受理 needs a reason. The centre must be one
    where the actor sits (service_centers_for); actor None is system work (the demo)."""
    errors: dict[str, str] = {}
    item = ServiceItem.objects.select_related("unit_type").get(pk=item.pk)
    if not item.is_active:
        errors["item"] = _("This service item is no longer offered.")
    if actor is not None and not service_centers_for(actor).filter(pk=service_center.pk).exists():
        errors["service_center"] = _("You do not work at this service centre.")
    name = _text(applicant_name, "applicant_name", errors, max_length=NAME_MAX, required=True)
    phone = ""
    if not (applicant_phone or "").strip():
        errors["applicant_phone"] = _("This field is required.")
    else:
        try:
            phone = check_phone(applicant_phone)
        except ValidationError as exc:
            errors["applicant_phone"] = exc.message_dict["phone"][0]
    id_value = ""
    try:
        id_value = check_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.message_dict["id_number"][0]
    reason = _text(refusal_reason, "refusal_reason", errors, max_length=NOTE_MAX, required=False)
    note_text = _text(note, "note", errors, max_length=NOTE_MAX, required=False)

    materials = list(item.materials.all())
    received_ids = set(received)
    if received_ids - {m.pk for m in materials}:
        errors["materials"] = _("Some ticked materials do not belong to this service item.")
    snapshot: list[dict[str, Any]] = [
        {
            "id": m.pk,
            "name": m.name,
            "copies": m.copies,
            "form": m.form,
            "required": m.required,
            "notes": m.notes,
            "received": m.pk in received_ids,
        }
        for m in materials
    ]
    missing = [str(m["name"]) for m in snapshot if m["required"] and not m["received"]]
    _check_outcome(outcome, item, missing, reason, errors)
    if errors:
        raise ValidationError(errors)

    now = clock.now()
    status = FIRST_STATUS[Outcome(outcome)]
    visit = WindowVisit.objects.create(
        number=_next_number(now.astimezone(current_calendar().tz).date()),
        item=item,
        service_center=service_center,
        responsible_unit=responsible_unit_for(item, service_center),
        applicant_name=name,
        applicant_phone=phone,
        applicant_phone_digest=crypto.digest(phone),
        id_number=id_value,
        id_number_digest=crypto.digest(id_value) if id_value else "",
        materials=snapshot,
        outcome=outcome,
        refusal_reason=reason if outcome == Outcome.REFUSED else "",
        note=note_text,
        promised_limit_value=item.promised_limit_value,
        legal_limit_value=item.legal_limit_value,
        limit_unit=item.limit_unit,
        promised_due_at=(
            promised_deadline(now, item.promised_limit_value, item.limit_unit)
            if outcome == Outcome.ACCEPTED
            else None
        ),
        status=status,
        registered_by=actor,
        registered_at=now,
        completed_at=now if status == VisitStatus.DONE else None,
    )
    VisitEvent.objects.create(
        visit=visit,
        seq=1,
        code=VisitAction.REGISTER,
        from_status="",
        to_status=status,
        actor=actor,
        at=now,
        note=reason if outcome == Outcome.REFUSED else note_text,
    )
    return visit


def _step(visit: WindowVisit, action: VisitAction, *, note: str, actor: User | None) -> WindowVisit:
    """Lock, authorize, check the table, change, append the event."""
    errors: dict[str, str] = {}
    note_text = _text(note, "note", errors, max_length=NOTE_MAX, required=False)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # NO KEY UPDATE: events that reference the visit may still be inserted meanwhile.
        locked = WindowVisit.objects.select_for_update(no_key=True).get(pk=visit.pk)
        if actor is not None and not visible_visits(actor).filter(pk=locked.pk).exists():
            raise PermissionDenied(_("You may not act on visits of this service centre."))
        sources, target = TRANSITIONS[action]
        if locked.status not in sources:
            raise ValidationError(
                _("This visit is “%(status)s”: “%(action)s” is not possible now.")
                % {"status": locked.get_status_display(), "action": action.label}
            )
        now = clock.now()
        seq = locked.events.count() + 1
        from_status = locked.status
        locked.status = target
        fields = ["status", "updated_at"]
        if target == VisitStatus.DONE:
            locked.completed_at = now
            fields.append("completed_at")
        elif target == VisitStatus.COLLECTED:
            locked.collected_at = now
            fields.append("collected_at")
        locked.save(update_fields=fields)
        VisitEvent.objects.create(
            visit=locked,
            seq=seq,
            code=action,
            from_status=from_status,
            to_status=target,
            actor=actor,
            at=now,
            note=note_text,
        )
    return locked


def do_start_visit(visit: WindowVisit, *, note: str = "", actor: User | None) -> WindowVisit:
    """The application goes to the back office (or the responsible unit): 办理中."""
    return _step(visit, VisitAction.START, note=note, actor=actor)


def do_complete_visit(visit: WindowVisit, *, note: str = "", actor: User | None) -> WindowVisit:
    """The result is ready (办结); the resident can collect it."""
    return _step(visit, VisitAction.COMPLETE, note=note, actor=actor)


def do_mark_collected(visit: WindowVisit, *, note: str = "", actor: User | None) -> WindowVisit:
    """The resident (or their agent, named in the note) collected the result."""
    return _step(visit, VisitAction.COLLECT, note=note, actor=actor)


# --- The catalogue and centre details (admin) ------------------------------------------------------------


def _require_superuser(actor: User | None) -> None:
    # The catalogue is city-wide, like the case catalogue: only platform operators edit it.
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only platform operators edit the service catalogue."))


@transaction.atomic
def do_save_service_item(item: ServiceItem, *, actor: User | None) -> ServiceItem:
    _require_superuser(actor)
    item.code = (item.code or "").strip()
    item.name = (item.name or "").strip()
    if not item.code or any(ch.isspace() for ch in item.code):
        raise ValidationError({"code": _("Enter a code without spaces.")})
    if item.promised_limit_value > item.legal_limit_value:
        raise ValidationError(
            {"promised_limit_value": _("The promised limit may not be longer than the legal limit.")}
        )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def do_save_required_material(material: RequiredMaterial, *, actor: User | None) -> RequiredMaterial:
    _require_superuser(actor)
    material.name = (material.name or "").strip()
    if material.copies < 1:
        raise ValidationError({"copies": _("At least one copy.")})
    material.full_clean()
    material.save()
    return material


@transaction.atomic
def do_delete_required_material(material: RequiredMaterial, *, actor: User | None) -> None:
    """Visits keep their own snapshot of the list, so removing a material rewrites no history."""
    _require_superuser(actor)
    material.delete()


@transaction.atomic
def do_save_service_center_profile(
    profile: ServiceCenterProfile, *, actor: User | None
) -> ServiceCenterProfile:
    unit = Unit.objects.select_related("jurisdiction").get(pk=profile.unit_id)
    if actor is not None and not can_administer_path(actor, unit.jurisdiction.path):
        raise PermissionDenied(_("You may only administer units within your own jurisdiction."))
    profile.address = (profile.address or "").strip()
    profile.full_clean()
    profile.save()
    return profile
