"""Every write to jurisdictions and units goes through these actions (keyword-only ``actor``).

``actor`` is None only for system work (management commands, the demo loader).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.jurisdictions.models import CHILD_LEVEL, Jurisdiction, Level, Unit, UnitType
from civicgrid.lib.codes import check_division_code
from civicgrid.lib.geometry import AREAL_TYPES, bbox_and_center, explain_invalid, from_geojson

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

_BBOX_FIELDS = ("min_lon", "min_lat", "max_lon", "max_lat", "center_lon", "center_lat")


def check_boundary(boundary: dict[str, Any] | None) -> dict[str, float | None]:
    """Validate a GeoJSON boundary; return the derived bbox/centre columns."""
    if boundary is None:
        return dict.fromkeys(_BBOX_FIELDS)
    if not isinstance(boundary, dict) or boundary.get("type") not in AREAL_TYPES:
        raise ValidationError({"boundary": _("The boundary must be a GeoJSON Polygon or MultiPolygon.")})
    try:
        geom = from_geojson(boundary)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ValidationError(
            {"boundary": _("The boundary is not valid GeoJSON: %(reason)s") % {"reason": exc}}
        ) from None
    if geom.is_empty or not geom.is_valid:
        raise ValidationError(
            {
                "boundary": _("The boundary is not a valid polygon: %(reason)s")
                % {"reason": explain_invalid(geom)}
            }
        )
    return dict(bbox_and_center(geom))


def _path_for(code: str, parent: Jurisdiction | None) -> str:
    return f"{parent.path if parent else ''}{code}/"


@transaction.atomic
def do_upsert_jurisdiction(
    *,
    code: str,
    name: str,
    level: Level | str,
    parent: Jurisdiction | None,
    kind: str = "",
    boundary: dict[str, Any] | None = None,
    keep_boundary: bool = False,
    actor: User | None,
) -> tuple[Jurisdiction, bool]:
    """Create or update the jurisdiction with this code. Returns (jurisdiction, created).

    The level must be the child level of the parent's, the code must follow the division code rules, and
    the boundary (if given) must be a valid polygon. ``keep_boundary`` leaves a stored boundary untouched.
    """
    level = Level(level)
    if parent is None and level != Level.CITY:
        raise ValidationError({"parent": _("Only a city can be a root of the tree.")})
    if parent is not None and CHILD_LEVEL.get(Level(parent.level)) != level:
        raise ValidationError(
            {
                "level": _("A %(child)s cannot lie directly under a %(parent)s.")
                % {"child": level.label, "parent": parent.get_level_display()}
            }
        )
    check = check_division_code(code, level.value, parent.code if parent else None)
    if not check.ok:
        raise ValidationError({"code": "; ".join(check.errors)})

    existing = Jurisdiction.objects.select_for_update().filter(code=code).first()
    values: dict[str, Any] = {"name": name, "level": level.value, "kind": kind, "parent": parent}
    if not (keep_boundary and existing is not None):
        values["boundary"] = boundary
        values.update(check_boundary(boundary))
    if existing is None:
        jurisdiction = Jurisdiction.objects.create(code=code, path=_path_for(code, parent), **values)
        return jurisdiction, True
    old_path = existing.path
    for key, value in values.items():
        setattr(existing, key, value)
    existing.path = _path_for(code, parent)
    existing.save()
    if existing.path != old_path:
        _move_subtree(old_path, existing.path)
    return existing, False


def _move_subtree(old_path: str, new_path: str) -> None:
    # Descendants keep their own codes; only the prefix of their path changes.
    for node in (
        Jurisdiction.objects.select_for_update().filter(path__startswith=old_path).exclude(path=new_path)
    ):
        node.path = new_path + node.path[len(old_path) :]
        node.save(update_fields=["path"])


@transaction.atomic
def do_set_boundary(
    jurisdiction: Jurisdiction, boundary: dict[str, Any] | None, *, actor: User | None
) -> Jurisdiction:
    derived = check_boundary(boundary)
    locked = Jurisdiction.objects.select_for_update().get(pk=jurisdiction.pk)
    locked.boundary = boundary
    for key, value in derived.items():
        setattr(locked, key, value)
    locked.save()
    return locked


@transaction.atomic
def do_upsert_unit_type(*, code: str, name: str, sort_order: int = 0, actor: User | None) -> UnitType:
    unit_type, _created = UnitType.objects.update_or_create(
        code=code, defaults={"name": name, "sort_order": sort_order}
    )
    return unit_type


@transaction.atomic
def do_upsert_unit(
    *,
    code: str,
    name: str,
    unit_type: UnitType,
    jurisdiction: Jurisdiction,
    parent: Unit | None = None,
    short_name: str = "",
    office_phone: str = "",
    sort_order: int = 0,
    actor: User | None,
) -> tuple[Unit, bool]:
    if parent is not None and not jurisdiction.path.startswith(parent.jurisdiction.path):
        raise ValidationError(
            {"parent": _("A unit's parent unit must belong to the same or a higher jurisdiction.")}
        )
    unit, created = Unit.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "short_name": short_name or name[:32],
            "unit_type": unit_type,
            "jurisdiction": jurisdiction,
            "parent": parent,
            "office_phone": office_phone,
            "sort_order": sort_order,
        },
    )
    return unit, created
