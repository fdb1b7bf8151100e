"""Every write to grid cells and buildings goes through these actions (keyword-only ``actor``).

``actor`` is None only for system work (management commands, the demo loader).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.grids.lookup import reset_grid_index
from civicgrid.grids.models import Building, GridCell
from civicgrid.lib.geometry import area_m2, bbox_and_center, from_geojson

if TYPE_CHECKING:
    from civicgrid.accounts.models import User
    from civicgrid.grids.importer import GridImportPlan


@dataclass
class ImportResult:
    created: int
    updated: int


def grid_cell_derived_fields(geometry: dict[str, Any]) -> dict[str, float]:
    """The bbox, centre and area columns of a grid cell, derived from its GeoJSON boundary."""
    geom = from_geojson(geometry)
    derived = bbox_and_center(geom)
    derived["area_m2"] = round(area_m2(geom), 1)
    return derived


@transaction.atomic
def do_import_grid_cells(plan: GridImportPlan, *, actor: User | None) -> ImportResult:
    """Create or update (by code) every cell of a checked plan, with its leader and workers.

    A plan with errors is refused as a whole, so a bad file writes nothing. The file describes each
    cell completely: a cell without a leader, workers or household count in the file gets none.
    """
    if not plan.ok:
        raise ValidationError([f"{problem.feature}: {problem.message}" for problem in plan.errors])
    if not plan.features:
        return ImportResult(created=0, updated=0)

    codes = [feature.code for feature in plan.features]
    ids: dict[str, int] = dict(
        GridCell.objects.select_for_update().filter(code__in=codes).values_list("code", "pk")
    )
    updated = len(ids)
    # update() skips auto_now, and lookup.grid_index() notices changed cells by their updated_at.
    now = timezone.now()
    to_create: list[GridCell] = []
    for feature in plan.features:
        values: dict[str, Any] = {
            "name": feature.name,
            "community": feature.community,
            "boundary": feature.geometry,
            **grid_cell_derived_fields(feature.geometry),
            "household_count": feature.household_count,
            "leader": feature.leader,
            "is_active": True,
            "updated_at": now,
        }
        if feature.code in ids:
            # One UPDATE per row: bulk_update's CASE expressions take seconds for a few hundred cells.
            GridCell.objects.filter(pk=ids[feature.code]).update(**values)
        else:
            to_create.append(GridCell(code=feature.code, **values))
    GridCell.objects.bulk_create(to_create, batch_size=500)
    if any(cell.pk is None for cell in to_create):
        # Backends that cannot return ids from a bulk insert: read them back by code.
        ids = dict(GridCell.objects.filter(code__in=codes).values_list("code", "pk"))
    else:
        ids.update((cell.code, cell.pk) for cell in to_create)

    through = GridCell.workers.through
    through.objects.filter(gridcell_id__in=list(ids.values())).delete()
    through.objects.bulk_create(
        [through(gridcell_id=ids[f.code], user_id=worker.pk) for f in plan.features for worker in f.workers],
        batch_size=500,
    )
    transaction.on_commit(reset_grid_index)
    return ImportResult(created=len(to_create), updated=updated)


@transaction.atomic
def do_set_grid_staff(
    cell: GridCell, *, leader: User | None, workers: list[User], actor: User | None
) -> GridCell:
    """Replace a cell's grid leader (网格长) and grid workers (网格员)."""
    inactive = [user.username for user in [*([leader] if leader else []), *workers] if not user.is_active]
    if inactive:
        raise ValidationError(
            _("Inactive accounts cannot be grid staff: %(users)s") % {"users": ", ".join(inactive)}
        )
    locked = GridCell.objects.select_for_update().get(pk=cell.pk)
    locked.leader = leader
    locked.save()
    locked.workers.set(workers)
    return locked


@transaction.atomic
def do_update_grid_cell(
    cell: GridCell,
    *,
    name: str,
    household_count: int,
    is_active: bool,
    leader: User | None,
    workers: list[User],
    actor: User | None,
) -> GridCell:
    """Edit a cell's name, household count, status and staff. Its boundary changes only by import."""
    if not name.strip():
        raise ValidationError({"name": _("This field cannot be blank.")})
    if household_count < 0:
        raise ValidationError({"household_count": _("The household count cannot be negative.")})
    locked = do_set_grid_staff(cell, leader=leader, workers=workers, actor=actor)
    locked.name = name.strip()
    locked.household_count = household_count
    locked.is_active = is_active
    locked.save(update_fields=["name", "household_count", "is_active", "updated_at"])
    return locked


@transaction.atomic
def do_upsert_building(
    *,
    code: str,
    name: str,
    grid_cell: GridCell,
    head: User | None,
    household_count: int = 0,
    address: str = "",
    lon: float | None = None,
    lat: float | None = None,
    actor: User | None,
) -> tuple[Building, bool]:
    """Create or update the building with this code. Returns (building, created)."""
    errors: dict[str, str] = {}
    if not code.strip() or not name.strip():
        errors["code" if not code.strip() else "name"] = _("This field cannot be blank.")
    if household_count < 0:
        errors["household_count"] = _("The household count cannot be negative.")
    if (lon is None) != (lat is None):
        errors["lon"] = _("Give both longitude and latitude, or neither.")
    elif lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors["lon"] = _("The position must be a longitude and latitude in degrees.")
    if not grid_cell.is_active:
        errors["grid_cell"] = _("The grid cell is inactive.")
    if errors:
        raise ValidationError(errors)
    return Building.objects.update_or_create(
        code=code.strip(),
        defaults={
            "name": name.strip(),
            "grid_cell": grid_cell,
            "head": head,
            "household_count": household_count,
            "address": address.strip(),
            "lon": lon,
            "lat": lat,
        },
    )
