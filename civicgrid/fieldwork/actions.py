"""Every write of the field screens: household visits, and event reports (through the case intake).

``actor`` is keyword-only; None is system work (the demo loader).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.cases.actions import PhotoUpload, do_create_case
from civicgrid.cases.models import Case, Category, Channel, Kind, Nature, Urgency
from civicgrid.fieldwork.models import HouseholdVisit, VisitPurpose
from civicgrid.fieldwork.queries import my_cells, visible_visits
from civicgrid.lib import clock

if TYPE_CHECKING:
    from civicgrid.accounts.models import User
    from civicgrid.grids.models import Building, GridCell
    from civicgrid.jurisdictions.models import Jurisdiction

# A phone's clock may run a little ahead of the server's; a visit further in the future is a typing error.
CLOCK_SKEW = timedelta(minutes=10)


def do_log_household_visit(
    *,
    grid_cell: GridCell,
    building: Building | None = None,
    address: str,
    household_head: str = "",
    visited_at: datetime,
    purpose: str,
    findings: str,
    needs_follow_up: bool = False,
    visitor: User | None = None,
    actor: User | None,
) -> HouseholdVisit:
    """Record a household visit in one of the actor's cells (the cell of a named building must be the
    visit's cell). ``visitor`` is who made the visit; only the system (the demo loader) may name someone
    else than the actor."""
    if actor is not None and visitor is not None and visitor.pk != actor.pk:
        raise PermissionDenied(_("You may only log your own visits."))
    errors: dict[str, list[str]] = {}
    address = address.strip()
    findings = findings.strip()
    household_head = household_head.strip()
    if not address:
        errors.setdefault("address", []).append(_("This field is required."))
    elif len(address) > 200:
        errors.setdefault("address", []).append(_("At most 200 characters."))
    if len(household_head) > 64:
        errors.setdefault("household_head", []).append(_("At most 64 characters."))
    if not findings:
        errors.setdefault("findings", []).append(_("This field is required."))
    if purpose not in VisitPurpose.values:
        errors.setdefault("purpose", []).append(_("“%(value)s” is not a valid choice.") % {"value": purpose})
    if visited_at > clock.now() + CLOCK_SKEW:
        errors.setdefault("visited_at", []).append(_("The visit cannot be in the future."))
    if building is not None and building.grid_cell_id != grid_cell.pk:
        errors.setdefault("building", []).append(_("This building is not in the chosen grid cell."))
    if actor is not None and not my_cells(actor).filter(pk=grid_cell.pk).exists():
        errors.setdefault("grid_cell", []).append(_("You do not work in this grid cell."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return HouseholdVisit.objects.create(
            grid_cell=grid_cell,
            building=building,
            address=address,
            household_head=household_head,
            visited_at=visited_at,
            by=actor if actor is not None else visitor,
            purpose=purpose,
            findings=findings,
            needs_follow_up=needs_follow_up,
            recorded_at=clock.now(),
        )


def do_report_event(
    *,
    category: Category | None,
    title: str,
    description: str,
    nature: str = Nature.REPORT,
    urgency: str = Urgency.NORMAL,
    address: str = "",
    lon: float | None = None,
    lat: float | None = None,
    jurisdiction: Jurisdiction | None = None,
    photos: tuple[PhotoUpload, ...] = (),
    intake_key: str | None = None,
    visit: HouseholdVisit | None = None,
    actor: User | None,
) -> tuple[Case, bool]:
    """上报事件: a grid event taken in through the case intake (channel grid, kind event), which finds the
    grid cell from the point and refuses places outside the actor's grants. Reported from a household
    visit, the visit then points at the case — in the same transaction, so neither exists without the
    other. Returns ``(case, created)`` as the intake does (a retry with the same key is not a new case)."""

    def create() -> tuple[Case, bool]:
        return do_create_case(
            channel=Channel.GRID,
            kind=Kind.EVENT,
            nature=nature,
            category=category,
            urgency=urgency,
            title=title,
            description=description,
            address=address,
            lon=lon,
            lat=lat,
            jurisdiction=jurisdiction,
            photos=photos,
            intake_key=intake_key,
            actor=actor,
        )

    if visit is None:
        return create()  # the intake's own fast path (one statement on PostgreSQL without photos)
    with transaction.atomic():
        visits = HouseholdVisit.objects.all() if actor is None else visible_visits(actor)
        locked = visits.select_for_update().filter(pk=visit.pk).first()
        if locked is None:
            raise ValidationError({"visit": _("This visit is not in your log.")})
        if locked.created_case_id is not None:
            # A retry of the same report (same key, same person) finds its case; anything else is a second
            # report from one visit, which would leave the first one unlinked.
            earlier = Case.objects.filter(pk=locked.created_case_id).first()
            if (
                earlier is not None
                and intake_key
                and earlier.intake_key == intake_key.strip()[:80]
                and earlier.created_by_id == (actor.pk if actor else None)
            ):
                visit.created_case = earlier
                return earlier, False
            raise ValidationError({"visit": _("An event was already reported from this visit.")})
        case, created = create()
        locked.created_case = case
        locked.save(update_fields=["created_case"])
        visit.created_case = case
        return case, created
