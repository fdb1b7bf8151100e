"""Demo step: 3–8 grid cells per community (a partition of its area), each with a grid leader (one per
community), one or two grid workers and a few buildings with their 楼长. Goes through the same import
validation as a GIS file (check_grid_import → do_import_grid_cells)."""

from __future__ import annotations

from typing import Any

import shapely

from civicgrid.accounts.actions import do_grant_role
from civicgrid.accounts.demo import ensure_staff
from civicgrid.accounts.models import Role, User
from civicgrid.demo.context import DemoContext, person_name
from civicgrid.grids.actions import do_import_grid_cells, do_upsert_building
from civicgrid.grids.importer import check_grid_import
from civicgrid.grids.models import Building, GridCell
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib.geometry import from_geojson, partition, to_geojson

# The first community's staff are the printed demo personas (civicgrid.accounts.demo).
PERSONA_COMMUNITY = "430103002001"
PERSONA_LEADER, PERSONA_WORKER, PERSONA_BUILDING_HEAD = "bjt_leader", "bjt_grid1", "bjt_building1"


def _staff(ctx: DemoContext, username: str, role: Role, community: Jurisdiction, counter: list[int]) -> User:
    user, created = ensure_staff(ctx, username, person_name(ctx.rng("name", username)))
    if created:
        counter[0] += 1
        do_grant_role(user, role=role, jurisdiction=community, actor=None)
    return user


def load(ctx: DemoContext) -> None:
    county = Jurisdiction.objects.get(code=ctx.county_code)
    communities = list(
        county.subtree().filter(level=Level.COMMUNITY, boundary__isnull=False).order_by("code")
    )
    done = set(GridCell.objects.filter(community__in=communities).values_list("community_id", flat=True))
    created_users = [0]
    features: list[dict[str, Any]] = []
    for community in communities:
        if community.pk in done:
            continue
        rng = ctx.rng("cells", community.code)
        n_cells = rng.randint(3, 8)
        is_village = community.kind == "村"
        leader_name = PERSONA_LEADER if community.code == PERSONA_COMMUNITY else f"gl{community.code}"
        leader = _staff(ctx, leader_name, Role.GRID_LEADER, community, created_users)
        parts = partition(from_geojson(community.boundary or {}), [1.0] * n_cells)
        for seq, part in enumerate(parts, start=1):
            code = f"{community.code}{seq:03d}"
            worker_names = [
                PERSONA_WORKER if (community.code == PERSONA_COMMUNITY and seq == 1) else f"gw{code}"
            ]
            if rng.random() < 0.3:
                worker_names.append(f"gw{code}b")
            for username in worker_names:
                _staff(ctx, username, Role.GRID_WORKER, community, created_users)
            features.append(
                {
                    "type": "Feature",
                    "geometry": to_geojson(part),
                    "properties": {
                        "code": code,
                        "name": f"{community.name}第{seq}网格",
                        "household_count": rng.randint(150, 400) if is_village else rng.randint(300, 500),
                        "leader": leader.username,
                        "workers": worker_names,
                    },
                }
            )
    if features:
        plan = check_grid_import({"type": "FeatureCollection", "features": features})
        if not plan.ok:
            raise RuntimeError(
                "demo grid cells failed validation: "
                + "; ".join(f"{p.feature}: {p.message}" for p in plan.errors)
            )
        result = do_import_grid_cells(plan, actor=None)
        ctx.say(
            f"    grid cells: {result.created} created, {result.updated} updated; {created_users[0]} grid staff created"
        )
    _load_buildings(ctx, county)


def _load_buildings(ctx: DemoContext, county: Jurisdiction) -> None:
    existing = set(
        Building.objects.filter(grid_cell__community__path__startswith=county.path).values_list(
            "code", flat=True
        )
    )
    created_users = [0]
    created = 0
    cells = (
        GridCell.objects.filter(community__path__startswith=county.path)
        .select_related("community")
        .order_by("code")
    )
    for cell in cells:
        rng = ctx.rng("buildings", cell.code)
        n_buildings = rng.randint(2, 4)
        geom = from_geojson(cell.boundary)
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        remaining = cell.household_count
        for seq in range(1, n_buildings + 1):
            code = f"{cell.code}B{seq:02d}"
            households = (
                remaining
                if seq == n_buildings
                else rng.randint(remaining // (n_buildings * 2), remaining // n_buildings)
            )
            remaining -= households
            if code in existing:
                continue
            head_name = (
                PERSONA_BUILDING_HEAD
                if (cell.code == f"{PERSONA_COMMUNITY}001" and seq == 1)
                else f"bh{code}"
            )
            head = _staff(ctx, head_name, Role.BUILDING_HEAD, cell.community, created_users)
            lon, lat = _point_inside(geom, min_lon, min_lat, max_lon, max_lat, rng)
            do_upsert_building(
                code=code,
                name=f"{cell.community.name}{(int(cell.code[-3:]) - 1) * 4 + seq}栋",
                grid_cell=cell,
                head=head,
                household_count=households,
                lon=lon,
                lat=lat,
                actor=None,
            )
            created += 1
    if created:
        ctx.say(f"    buildings: {created} created; {created_users[0]} building heads created")


def _point_inside(
    geom: Any, min_lon: float, min_lat: float, max_lon: float, max_lat: float, rng: Any
) -> tuple[float, float]:
    for _ in range(100):
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        if geom.contains(shapely.Point(lon, lat)):
            return round(lon, 6), round(lat, 6)
    point = geom.representative_point()
    return round(point.x, 6), round(point.y, 6)
