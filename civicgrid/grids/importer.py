"""Validation of a grid-cell GeoJSON import (reads only; the write is ``actions.do_import_grid_cells``).

``check_grid_import`` turns an untrusted FeatureCollection into a plan: the checked features, the errors
that forbid the import and the warnings that do not. Every problem names the offending feature by its
1-based position in the file, so an operator can fix the file without guessing. Hostile input (wrong types
anywhere, nested garbage) is reported as an error, never raised.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from civicgrid.accounts.models import User
from civicgrid.grids.models import GridCell
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib.codes import check_grid_cell_code, grid_cell_code, short_community_name
from civicgrid.lib.geometry import AREAL_TYPES, area_m2, explain_invalid, from_geojson, snap, to_geojson

_MAX_HOUSEHOLDS = 2_147_483_647  # PositiveIntegerField's upper bound on every supported database
_MAX_NAME = 64
_SHOWN_CODE = 32  # how much of a garbage code to echo back in a label


@dataclass
class ImportProblem:
    """One problem, naming the offending feature (or community) so the file can be fixed."""

    feature: str
    message: str


@dataclass
class CheckedFeature:
    index: int  # 1-based position in the file
    code: str
    name: str
    community: Jurisdiction
    geometry: dict[str, Any]  # GeoJSON, snapped to lib.geometry.GRID_SIZE
    household_count: int
    leader: User | None
    workers: list[User]


@dataclass
class GridImportPlan:
    features: list[CheckedFeature] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Draft:
    """A feature between parsing and the checks that need the database or the other features."""

    index: int
    code: str | None = None
    shown_code: str | None = None
    community_code: str | None = None
    name: str | None = None
    household_count: int = 0
    leader_name: str | None = None
    worker_names: list[str] = field(default_factory=list)
    geom: BaseGeometry | None = None
    community: Jurisdiction | None = None
    leader: User | None = None
    workers: list[User] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.shown_code:
            return _("feature #%(n)d (code %(code)s)") % {"n": self.index, "code": self.shown_code}
        return _("feature #%(n)d") % {"n": self.index}


def check_grid_import(collection: Any, *, tolerance_m2: float = 5.0) -> GridImportPlan:
    """Check a GeoJSON FeatureCollection of grid cells against itself and the database.

    Overlaps and the part of a cell outside its community count only above ``tolerance_m2`` square
    metres, so that coordinate noise from the drawing tool does not block an import.
    """
    if not tolerance_m2 >= 0:  # also catches NaN, which would silently accept every overlap
        raise ValueError(f"tolerance_m2 must be at least 0, got {tolerance_m2!r}")
    plan = GridImportPlan()
    file_label = _("the file")
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        plan.errors.append(ImportProblem(file_label, _("The file is not a GeoJSON FeatureCollection.")))
        return plan
    raw_features = collection.get("features")
    if not isinstance(raw_features, list):
        plan.errors.append(ImportProblem(file_label, _("The FeatureCollection has no list of features.")))
        return plan
    if not raw_features:
        plan.errors.append(ImportProblem(file_label, _("The file contains no features.")))
        return plan

    drafts = [_parse_feature(index, raw) for index, raw in enumerate(raw_features, start=1)]
    _check_duplicate_codes(drafts)
    _resolve_communities(drafts)
    _resolve_users(drafts)
    _default_names(drafts)

    located = [d for d in drafts if d.geom is not None and d.code is not None]
    existing = _existing_cells(located)
    boundaries = _community_boundaries(located, plan)
    _check_outside(located, boundaries, tolerance_m2)
    _check_overlaps_in_file(located, tolerance_m2)
    _check_overlaps_with_database(located, existing, tolerance_m2)
    _check_gaps(located, existing, boundaries, plan, tolerance_m2)

    for draft in drafts:
        plan.errors.extend(ImportProblem(draft.label, message) for message in draft.errors)
        if not draft.errors:
            assert draft.code is not None
            assert draft.geom is not None
            assert draft.community is not None
            plan.features.append(
                CheckedFeature(
                    index=draft.index,
                    code=draft.code,
                    name=draft.name or "",
                    community=draft.community,
                    geometry=to_geojson(draft.geom),
                    household_count=draft.household_count,
                    leader=draft.leader,
                    workers=draft.workers,
                )
            )
    return plan


# --- one feature on its own ------------------------------------------------------------------------------


def _parse_feature(index: int, raw: Any) -> _Draft:
    draft = _Draft(index=index)
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        draft.errors.append(_("This is not a GeoJSON Feature."))
        return draft
    properties = raw.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        draft.errors.append(_("The properties must be a JSON object."))
        properties = {}
    _parse_code(draft, properties)
    _parse_attributes(draft, properties)
    _parse_geometry(draft, raw.get("geometry"))
    return draft


def _as_digits(value: Any) -> str | None:
    """A code given as a string or a JSON integer, as a string; None for any other type."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # Beyond 15 digits it cannot be a code, and str() of a huge int would even raise.
        return str(value) if 0 <= value < 10**15 else None
    if isinstance(value, str):
        return value.strip()
    return None


def _printable(value: str) -> str:
    """A short, single-line excerpt of an untrusted string, safe to echo in a message."""
    return "".join(ch if ch.isprintable() else "?" for ch in value[:_SHOWN_CODE])


def _is_ascii_digits(value: str, length: int) -> bool:
    # str.isdigit() alone would accept full-width and other Unicode digits.
    return len(value) == length and value.isascii() and value.isdigit()


def _parse_code(draft: _Draft, properties: dict[str, Any]) -> None:
    raw_code = properties.get("code")
    raw_community = properties.get("community_code")
    raw_sequence = properties.get("sequence")
    code: str | None = None
    if raw_code is not None:
        code = _as_digits(raw_code)
        if code is None:
            draft.errors.append(_("The code must be a string of 15 digits."))
            return
        draft.shown_code = _printable(code)
        if not _is_ascii_digits(code, 15) or not check_grid_cell_code(code).ok:
            draft.errors.append(
                _("%(code)s is not a grid cell code: 15 digits, community code (12) + sequence 001–999.")
                % {"code": draft.shown_code}
            )
            return
    if raw_community is not None or raw_sequence is not None:
        community_code = _as_digits(raw_community)
        if community_code is None or not _is_ascii_digits(community_code, 12):
            draft.errors.append(_("The community_code must be a string of 12 digits."))
            return
        sequence = _as_sequence(raw_sequence)
        if sequence is None:
            draft.errors.append(_("The sequence must be a whole number from 1 to 999."))
            return
        built = grid_cell_code(community_code, sequence)
        if code is not None and code != built:
            draft.errors.append(
                _("The code %(code)s does not match community_code %(community)s and sequence %(sequence)d.")
                % {"code": code, "community": community_code, "sequence": sequence}
            )
            return
        code = built
        draft.shown_code = code
    if code is None:
        draft.errors.append(_("The feature has no code (give code, or community_code and sequence)."))
        return
    draft.code = code
    draft.community_code = code[:12]


def _as_sequence(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3:
        value = int(value)
    if isinstance(value, int) and 1 <= value <= 999:
        return value
    return None


def _parse_attributes(draft: _Draft, properties: dict[str, Any]) -> None:
    name = properties.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            draft.errors.append(_("The name must be a non-empty string."))
        elif len(name.strip()) > _MAX_NAME:
            draft.errors.append(_("The name is longer than %(max)d characters.") % {"max": _MAX_NAME})
        else:
            draft.name = name.strip()

    households = properties.get("household_count")
    if households is not None:
        if (
            isinstance(households, bool)
            or not isinstance(households, int)
            or not 0 <= households <= _MAX_HOUSEHOLDS
        ):
            draft.errors.append(_("The household_count must be a whole number of at least 0."))
        else:
            draft.household_count = households

    leader = properties.get("leader")
    if leader is not None and leader != "":
        if isinstance(leader, str):
            draft.leader_name = leader.strip()
        else:
            draft.errors.append(_("The leader must be a username."))

    workers = properties.get("workers")
    if workers is not None:
        if not isinstance(workers, list) or not all(isinstance(w, str) for w in workers):
            draft.errors.append(_("The workers must be a list of usernames."))
        else:
            # A name listed twice is one worker; keep the file's order for the result.
            draft.worker_names = list(dict.fromkeys(w.strip() for w in workers if w.strip()))


def _parse_geometry(draft: _Draft, geometry: Any) -> None:
    if not isinstance(geometry, dict) or geometry.get("type") not in AREAL_TYPES:
        draft.errors.append(_("The geometry is missing or not a polygon (Polygon or MultiPolygon)."))
        return
    try:
        geom = shapely.force_2d(from_geojson(geometry))
        coords = shapely.get_coordinates(geom)
    except Exception:  # shapely and numpy raise many types on garbage; each means "unreadable"
        draft.errors.append(_("The geometry is not readable GeoJSON coordinates."))
        return
    if geom.is_empty:
        draft.errors.append(_("The geometry is empty."))
        return
    if (
        not np.isfinite(coords).all()
        or (np.abs(coords[:, 0]) > 180).any()
        or (np.abs(coords[:, 1]) > 90).any()
    ):
        draft.errors.append(_("The coordinates must be longitude and latitude in degrees."))
        return
    if not geom.is_valid:
        draft.errors.append(_("The polygon is invalid: %(reason)s") % {"reason": explain_invalid(geom)})
        return
    snapped = snap(geom)
    if snapped.is_empty or not snapped.is_valid or snapped.area == 0:
        draft.errors.append(_("The polygon is too small: it vanishes at 1 cm precision."))
        return
    draft.geom = snapped


# --- features against each other and the database ---------------------------------------------------------


def _check_duplicate_codes(drafts: list[_Draft]) -> None:
    first_seen: dict[str, _Draft] = {}
    for draft in drafts:
        if draft.code is None:
            continue
        first = first_seen.setdefault(draft.code, draft)
        if first is not draft:
            draft.errors.append(_("Duplicate code: feature #%(n)d has the same code.") % {"n": first.index})
            draft.code = None  # later checks treat it as unusable; the first one stays


def _resolve_communities(drafts: list[_Draft]) -> None:
    codes = {d.community_code for d in drafts if d.community_code}
    found = {j.code: j for j in Jurisdiction.objects.filter(code__in=codes)}
    for draft in drafts:
        if draft.community_code is None:
            continue
        community = found.get(draft.community_code)
        if community is None:
            draft.errors.append(_("Unknown community %(code)s.") % {"code": draft.community_code})
        elif community.level != Level.COMMUNITY:
            draft.errors.append(
                _("%(code)s %(name)s is a %(level)s, not a community.")
                % {"code": community.code, "name": community.name, "level": community.get_level_display()}
            )
        elif not community.is_active:
            draft.errors.append(
                _("Community %(code)s %(name)s is inactive.")
                % {"code": community.code, "name": community.name}
            )
        else:
            draft.community = community


def _resolve_users(drafts: list[_Draft]) -> None:
    names = {n for d in drafts for n in [d.leader_name, *d.worker_names] if n}
    users = {u.username: u for u in User.objects.filter(username__in=names)} if names else {}

    def lookup(draft: _Draft, username: str) -> User | None:
        user = users.get(username)
        if user is None:
            draft.errors.append(_("Unknown user %(username)s.") % {"username": _printable(username)})
        elif not user.is_active:
            draft.errors.append(_("User %(username)s is inactive.") % {"username": username})
            return None
        return user

    for draft in drafts:
        if draft.leader_name:
            draft.leader = lookup(draft, draft.leader_name)
        draft.workers = [u for u in (lookup(draft, n) for n in draft.worker_names) if u is not None]


def _default_names(drafts: list[_Draft]) -> None:
    for draft in drafts:
        if draft.name is None and draft.community is not None and draft.code is not None:
            draft.name = f"{short_community_name(draft.community.name)}第{int(draft.code[12:])}网格"[
                :_MAX_NAME
            ]


@dataclass
class _ExistingCell:
    code: str
    name: str
    community_id: int
    geom: BaseGeometry


def _existing_cells(located: list[_Draft]) -> list[_ExistingCell]:
    """Active cells in the database near the file's cells and communities, minus those being replaced."""
    if not located:
        return []
    bounds = [shapely.total_bounds([d.geom for d in located if d.geom is not None])]
    for community in {d.community.pk: d.community for d in located if d.community is not None}.values():
        if community.min_lon is not None:
            bounds.append(
                np.array(
                    [community.min_lon, community.min_lat, community.max_lon, community.max_lat], dtype=float
                )
            )
    stacked = np.vstack(bounds)
    min_lon, min_lat = stacked[:, 0].min(), stacked[:, 1].min()
    max_lon, max_lat = stacked[:, 2].max(), stacked[:, 3].max()
    replaced = {d.code for d in located}
    rows = GridCell.objects.filter(
        is_active=True, min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat
    ).values_list("code", "name", "community_id", "boundary")
    cells = []
    for code, name, community_id, boundary in rows:
        if code in replaced:
            continue
        geom = _readable(boundary)
        if geom is not None:
            cells.append(_ExistingCell(code, name, community_id, geom))
    return cells


def _readable(boundary: Any) -> BaseGeometry | None:
    # Stored boundaries were validated on write; a row edited by hand should not break every import.
    try:
        geom = from_geojson(boundary)
    except Exception:
        return None
    if geom.is_empty:
        return None
    return geom if geom.is_valid else shapely.make_valid(geom)


def _community_boundaries(located: list[_Draft], plan: GridImportPlan) -> dict[int, BaseGeometry]:
    """Community boundaries by primary key, prepared; a warning for each community that has none."""
    boundaries: dict[int, BaseGeometry] = {}
    for pk, community in _communities_of(located).items():
        geom = _readable(community.boundary) if community.boundary is not None else None
        if geom is None:
            plan.warnings.append(
                ImportProblem(
                    _community_label(community),
                    _("The community has no boundary: outside and gap checks were skipped for its cells."),
                )
            )
            continue
        shapely.prepare(geom)
        boundaries[pk] = geom
    return boundaries


def _communities_of(located: list[_Draft]) -> dict[int, Jurisdiction]:
    found = {d.community.pk: d.community for d in located if d.community is not None}
    return dict(sorted(found.items(), key=lambda item: item[1].code))


def _community_label(community: Jurisdiction) -> str:
    return _("community %(code)s (%(name)s)") % {"code": community.code, "name": community.name}


def _safe(operation: Callable[..., BaseGeometry], *geoms: BaseGeometry) -> BaseGeometry | None:
    # GEOS can still fail on valid but pathological input; the caller reports it instead of crashing.
    try:
        return operation(*geoms)
    except GEOSException:
        return None


def _check_outside(located: list[_Draft], boundaries: dict[int, BaseGeometry], tolerance_m2: float) -> None:
    for draft in located:
        if draft.geom is None or draft.community is None or draft.community.pk not in boundaries:
            continue
        boundary = boundaries[draft.community.pk]
        if boundary.covers(draft.geom):
            continue
        outside = _safe(shapely.difference, draft.geom, boundary)
        area = area_m2(outside) if outside is not None else math.inf
        if area > tolerance_m2:
            draft.errors.append(
                _("The cell extends %(area).1f m² outside its %(community)s.")
                % {"area": area, "community": _community_label(draft.community)}
            )


def _overlap_areas(
    lefts: list[BaseGeometry], rights: list[BaseGeometry], pairs: Iterable[tuple[int, int]]
) -> Iterator[tuple[int, int, float]]:
    """Overlap area in m² of each candidate pair whose interiors meet (shared edges have none)."""
    for i, j in pairs:
        overlap = _safe(shapely.intersection, lefts[i], rights[j])
        if overlap is None:
            yield i, j, math.inf
        elif overlap.area > 0:  # in degrees², cheap, and exactly zero for neighbours sharing an edge
            yield i, j, area_m2(overlap)


def _check_overlaps_in_file(located: list[_Draft], tolerance_m2: float) -> None:
    geoms = [d.geom for d in located if d.geom is not None]
    if len(geoms) < 2:
        return
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    pairs = zip(left[keep].tolist(), right[keep].tolist(), strict=True)
    for i, j, area in _overlap_areas(geoms, geoms, pairs):
        if area > tolerance_m2:
            # located is in file order, so j is the later feature: it gets the error, naming the earlier one.
            located[j].errors.append(
                _("The cell overlaps %(other)s by %(area).1f m².") % {"other": located[i].label, "area": area}
            )


def _check_overlaps_with_database(
    located: list[_Draft], existing: list[_ExistingCell], tolerance_m2: float
) -> None:
    file_geoms = [d.geom for d in located if d.geom is not None]
    db_geoms = [c.geom for c in existing]
    if not file_geoms or not db_geoms:
        return
    file_idx, db_idx = shapely.STRtree(db_geoms).query(file_geoms, predicate="intersects")
    pairs = zip(file_idx.tolist(), db_idx.tolist(), strict=True)
    for i, j, area in _overlap_areas(file_geoms, db_geoms, pairs):
        if area > tolerance_m2:
            cell = existing[j]
            located[i].errors.append(
                _("The cell overlaps the existing grid cell %(code)s (%(name)s) by %(area).1f m².")
                % {"code": cell.code, "name": cell.name, "area": area}
            )


def _check_gaps(
    located: list[_Draft],
    existing: list[_ExistingCell],
    boundaries: dict[int, BaseGeometry],
    plan: GridImportPlan,
    tolerance_m2: float,
) -> None:
    """Warn about parts of a community covered by no cell, counting the cells that stay in the database."""
    cover: dict[int, list[BaseGeometry]] = defaultdict(list)
    for draft in located:
        if draft.community is not None and draft.geom is not None:
            cover[draft.community.pk].append(draft.geom)
    for cell in existing:
        if cell.community_id in cover:
            cover[cell.community_id].append(cell.geom)
    for pk, community in _communities_of(located).items():
        if pk not in boundaries:
            continue  # already warned about
        covered = _safe(shapely.union_all, cover[pk])
        gap = _safe(shapely.difference, boundaries[pk], covered) if covered is not None else None
        if gap is None:
            continue
        for part in shapely.get_parts(gap):
            if part.geom_type not in AREAL_TYPES:
                continue
            area = area_m2(part)
            if area > tolerance_m2:
                point = part.representative_point()
                plan.warnings.append(
                    ImportProblem(
                        _community_label(community),
                        _("A gap of %(area).1f m² is covered by no grid cell, around %(lon).6f, %(lat).6f.")
                        % {"area": area, "lon": point.x, "lat": point.y},
                    )
                )
