"""Every write of the assessment app: schemes and indicators (from the admin) and publishing a ranking.

Administrators edit the schemes of their own subtree (the admin calls these actions); leaders and the
supervision centre publish rankings of the schemes of their subtree. Each change appends a ``SchemeEvent``
in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.permissions import can_administer_path, can_assess_path
from civicgrid.jurisdictions.models import LADDER, Jurisdiction, Level, UnitType
from civicgrid.lib import clock
from civicgrid.stats.definitions import RATE
from civicgrid.stats.figures import Period

from .models import (
    AssessmentResult,
    AssessmentRow,
    AssessmentScheme,
    Grouping,
    Indicator,
    SchemeEvent,
    Subject,
)
from .ranking import build_ranking, mark_json, period_code, rule_json

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

NOTE_MAX = 2000


def _require_admin(actor: User | None, jurisdiction: Jurisdiction) -> None:
    if actor is not None and not can_administer_path(actor, jurisdiction.path):
        raise PermissionDenied(_("You may only administer schemes within your own jurisdiction."))


def _event(scheme: AssessmentScheme, code: str, actor: User | None, **data: Any) -> None:
    SchemeEvent.objects.create(scheme=scheme, code=code, actor=actor, at=clock.now(), data=data)


def snapshot(scheme: AssessmentScheme) -> dict[str, Any]:
    """The scheme as it is now, in plain values (kept with each event and each published ranking)."""
    return {
        "code": scheme.code,
        "name": scheme.name,
        "jurisdiction": scheme.jurisdiction.code,
        "subject": scheme.subject,
        "area_level": scheme.area_level,
        "unit_types": sorted(scheme.unit_types.values_list("code", flat=True)) if scheme.pk else [],
        "period": scheme.period,
        "min_due": scheme.min_due,
        "basically_satisfied_weight": str(scheme.basically_satisfied_weight),
        "partly_solved_weight": str(scheme.partly_solved_weight),
        "grouping": scheme.grouping,
        "red_count": scheme.red_count,
        "black_count": scheme.black_count,
        "floor_to_black": scheme.floor_to_black,
        "indicators": [
            {
                "rate": i.rate,
                "weight": str(i.weight),
                "target": str(i.target),
                "floor": None if i.floor is None else str(i.floor),
            }
            for i in scheme.indicators.all()
        ]
        if scheme.pk
        else [],
    }


# --- Schemes ----------------------------------------------------------------------------------------------


def check_scheme(scheme: AssessmentScheme) -> None:
    """The rules a scheme must keep, each reported at its field (in the user's language)."""
    errors: dict[str, str] = {}
    scheme.code = (scheme.code or "").strip()
    scheme.name = (scheme.name or "").strip()
    if not scheme.name:
        errors["name"] = _("Give the scheme a name.")
    jurisdiction = scheme.jurisdiction if scheme.jurisdiction_id else None
    if scheme.subject == Subject.AREA:
        if not scheme.area_level:
            errors["area_level"] = _("Choose the level of the areas assessed.")
        elif jurisdiction is not None and LADDER.index(Level(scheme.area_level)) >= LADDER.index(
            Level(jurisdiction.level)
        ):
            errors["area_level"] = _("The areas assessed must lie below the scheme's jurisdiction.")
    elif scheme.area_level:
        errors["area_level"] = _("Only a scheme assessing areas has an area level.")
    if scheme.grouping == Grouping.UNIT_TYPE and scheme.subject != Subject.UNIT:
        errors["grouping"] = _("Only units can be grouped by unit type.")
    for name in ("basically_satisfied_weight", "partly_solved_weight"):
        value = getattr(scheme, name)
        if value is None or not Decimal(0) <= Decimal(value) <= Decimal(1):
            errors[name] = _("A weight between 0 and 1.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_save_scheme(
    scheme: AssessmentScheme, *, unit_types: Iterable[UnitType] | None = None, actor: User | None
) -> AssessmentScheme:
    jurisdiction = Jurisdiction.objects.get(pk=scheme.jurisdiction_id)
    _require_admin(actor, jurisdiction)
    if scheme.pk:
        before = AssessmentScheme.objects.select_for_update().get(pk=scheme.pk)
        _require_admin(actor, before.jurisdiction)  # moving a scheme out of one's reach is not allowed either
    check_scheme(scheme)
    scheme.full_clean(exclude=["unit_types"])
    scheme.save()
    if unit_types is not None:
        if scheme.subject != Subject.UNIT and list(unit_types):
            raise ValidationError({"unit_types": _("Only a scheme assessing units has unit types.")})
        scheme.unit_types.set(list(unit_types))
    _event(scheme, SchemeEvent.Code.SAVED, actor, snapshot=snapshot(scheme))
    return scheme


def check_indicator(indicator: Indicator) -> None:
    errors: dict[str, str] = {}
    if indicator.rate not in RATE:
        errors["rate"] = _("Choose one of the statistics' rates.")
    weight = indicator.weight
    if weight is None or weight <= 0:
        errors["weight"] = _("A weight above 0 points.")
    target, floor = indicator.target, indicator.floor
    if target is None or not Decimal(0) <= target <= Decimal(100):
        errors["target"] = _("A percentage from 0 to 100.")
    if floor is not None and not Decimal(0) <= floor <= Decimal(100):
        errors["floor"] = _("A percentage from 0 to 100.")
    elif floor is not None and target is not None and indicator.rate in RATE:
        if RATE[indicator.rate].lower_is_better and floor < target:
            errors["floor"] = _(
                "For this rate lower is better: the floor (the most allowed) may not be below the target."
            )
        elif not RATE[indicator.rate].lower_is_better and floor > target:
            errors["floor"] = _("The floor may not be above the target.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_save_indicator(indicator: Indicator, *, actor: User | None) -> Indicator:
    scheme = AssessmentScheme.objects.select_for_update().get(pk=indicator.scheme_id)
    _require_admin(actor, scheme.jurisdiction)
    check_indicator(indicator)
    indicator.full_clean()
    indicator.save()
    _event(
        scheme,
        SchemeEvent.Code.INDICATOR_SAVED,
        actor,
        rate=indicator.rate,
        weight=str(indicator.weight),
        target=str(indicator.target),
        floor=None if indicator.floor is None else str(indicator.floor),
    )
    return indicator


@transaction.atomic
def do_delete_indicator(indicator: Indicator, *, actor: User | None) -> None:
    """Published rankings keep their own copy of the indicators, so removing one rewrites no history."""
    scheme = AssessmentScheme.objects.select_for_update().get(pk=indicator.scheme_id)
    _require_admin(actor, scheme.jurisdiction)
    rate = indicator.rate
    indicator.delete()
    _event(scheme, SchemeEvent.Code.INDICATOR_DELETED, actor, rate=rate)


# --- Publishing -------------------------------------------------------------------------------------------


def check_publication(scheme: AssessmentScheme, period: Period, today: date) -> None:
    if period.last >= today:
        raise ValidationError({"p": _("Only a period that has ended can be published.")})
    if not scheme.indicators.exists():
        raise ValidationError({"p": _("The scheme has no indicators yet: nothing can be scored.")})
    if not scheme.is_active:
        raise ValidationError({"p": _("The scheme is not active.")})


@transaction.atomic
def do_publish_assessment(
    scheme: AssessmentScheme, period: Period, *, note: str = "", actor: User | None
) -> AssessmentResult:
    """Freeze the ranking of ``period`` as it stands now: a new version beside the earlier ones."""
    # The scheme row is the lock: two publications of the same scheme take versions one after the other.
    scheme = AssessmentScheme.objects.select_for_update().select_related("jurisdiction").get(pk=scheme.pk)
    if actor is not None and not can_assess_path(actor, scheme.jurisdiction.path):
        raise PermissionDenied(_("You may not publish the rankings of this scheme."))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("At most %(n)s characters.") % {"n": NOTE_MAX}})
    today = timezone.localtime(clock.now()).date()
    check_publication(scheme, period, today)
    ranking = build_ranking(scheme, period, today)
    version = (
        AssessmentResult.objects.filter(scheme=scheme, period_first=period.first).aggregate(v=Max("version"))[
            "v"
        ]
        or 0
    ) + 1
    kept = snapshot(scheme)
    kept["indicators"] = [rule_json(r) for r in ranking.rules]
    result = AssessmentResult.objects.create(
        scheme=scheme,
        period_first=period.first,
        period_last=period.last,
        version=version,
        published_at=clock.now(),
        published_by=actor,
        note=note,
        scheme_snapshot=kept,
        figures_as_of=ranking.as_of,
    )
    AssessmentRow.objects.bulk_create(
        [
            AssessmentRow(
                result=result,
                position=position,
                subject_key=e.key,
                code=e.code,
                name=e.name,
                group=e.group,
                rank=e.rank,
                score="" if e.score is None else str(e.score),
                standing=e.standing,
                marks=[mark_json(m) for m in e.marks],
                counts=e.counts,
            )
            for position, e in enumerate(ranking.entries, start=1)
        ],
        batch_size=1000,
    )
    _event(
        scheme,
        SchemeEvent.Code.PUBLISHED,
        actor,
        period=period_code(scheme.period, period),
        version=version,
        result=result.pk,
        red=[e.code for e in ranking.red],
        black=[e.code for e in ranking.black],
    )
    return result
