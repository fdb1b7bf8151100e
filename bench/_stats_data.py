"""The data of bench/stats.py: a city made through the actions, then millions of cases in set-based SQL.

``build_city`` runs inside Django after migrate: the geography (长沙市, its 9 real districts, the first
STREETS_PER_DISTRICT real streets of each from the NBS tables, their real communities where the data set
has them — 天心区, 雨花区 — else COMMUNITIES_PER_STREET numbered ones, CELLS_PER_COMMUNITY grid cells in
each), the units (the demo's unit types; every district's bureaus, the city's, a street office per street)
and the portal's category taxonomy (15/118/517, ``do_import_categories``), all through the actions except
the grid cells (bulk-created: the statistics read only their ids).

``generate`` then writes the cases in batches of BATCH ids with INSERT … SELECT over generate_series —
only the rows the statistics read (civicgrid/stats/facts.py): ``cases_case``; the acceptance and handling
clocks of every dispatched case and some late clocks of other stages; the lead assignments (current and
returned ones) and co-handling ones; a ``create`` event for every case and the ``answer_directly`` events;
the revisits. Secondary indexes are dropped during the load and rebuilt after it, then VACUUM ANALYZE.

What the generated rows look like (seeded; times relative to the load's ``now``):
- received over DAYS days up to now, ids growing with time, volume growing by GROWTH over the span;
  85 % within 08:00–21:00 (Asia/Shanghai);
- status as in bench/_open311_data.py, but the share open falls faster with age (OPEN_SHARE: most of the
  last week's cases open, 0.2 % of those older than a year); closed ones mostly revisited or archived, some answered directly, some dropped (void, merged,
  split, withdrawn); channel, nature, handling class and category (Zipf over the 517 leaves) skewed;
- the place: a grid cell drawn with log-normal weights (busy and quiet communities), 10 % with only the
  community (no cell);
- the owner desk (level jurisdiction): the district's mostly; 15 % the street, 2 % the community, 3 %
  escalated to the city, 0.5 % transferred to another district's desk, 2 % escalated street → district;
- the lead unit: the owner district's bureau of the category's unit type (权责清单), the street office for
  street matters and street-level cases, a city bureau for city-level ones;
- times: register 0.05–1.5 h after receipt, dispatch 0–6 h later, acceptance 0.2–60 h (skewed: ~6 % late),
  reply log-normal (median 60 h; an instant case a tenth of it), verification 4–72 h (the closing), revisit 12–108 h, archive later; a case
  reopened after an unsatisfied revisit closes again later. Everything is squeezed into the case's age;
- returns (6 % once, 1.5 % twice), extensions (5 %), reworks (3 %), reopenings (2 % of revisited cases and
  5 % of cases in handling), revisits (70 % satisfied, 16 % basically, 11 % not; 3 % unreachable; 5 % with an
  earlier unreachable attempt);
- clocks: acceptance (limit 1 working day ≈ 33.6 h) and handling (1, 5, 10 or 15 working days) with their
  timing from the times above; late registration (1 %), verification (2 %) and revisit (5 %, not counted)
  clocks.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _open311_data import (
    CASE_COLUMNS,
    CHANNELS,
    CLOSED_STATES,
    HANDLING,
    NATURES,
    OPEN_STATES,
    URGENCY,
    ZIPF_S,
    _check_columns,
    _cumulative,
    _in,
    _pick,
    _secondary_indexes,
    texts,
)

GENERATOR = "stats-data-v2"  # changes when the generated rows change: a kept database is then rebuilt
CITY_CODE = "4301"  # 长沙市 in the NBS tables (the jurisdiction code is 430100)
DAYS = 1095
GROWTH = 0.3  # the daily volume at the end of the span is 1.3 times that at its start
STREETS_PER_DISTRICT = 11
COMMUNITIES_PER_STREET = 10  # where the data set has no communities
CELLS_PER_COMMUNITY = 5
CELL_WEIGHT_SIGMA = 0.8  # log-normal spread of how busy a grid cell is
BATCH = 1_000_000
# P(open) by age in days: (younger than, share open); older cases: the last share. Most cases are closed within
# weeks; a few stay open for months.
OPEN_SHARE = [(7, 0.55), (30, 0.20), (90, 0.05), (365, 0.01), (None, 0.002)]
N_TEXTS = 400
# Unit types whose matters a street office handles (the category's 权责清单 says so).
STREET_TYPES = frozenset({"township_office", "community_committee", "service_center", "judicial_office"})

ACCEPTED = ["handling", "waiting", "suspended", "replied", "resolved", "revisited", "archived"]
DISPATCHED = ["dispatched", "return_requested", *ACCEPTED]
REGISTERED = ["registered", *DISPATCHED, "split", "withdrawn"]
REPLIED = ["replied", "resolved", "revisited", "archived"]
VERIFIED = ["resolved", "revisited", "archived"]
REVISITED = ["revisited", "archived"]
assert {s for s, _ in OPEN_STATES + CLOSED_STATES} >= set(REGISTERED)


# --- The city (Django, through the actions) ---------------------------------------------------------------


@dataclass
class City:
    city_id: int
    city_path: str
    districts: list[tuple[int, str, str]]  # id, code, path
    streets: int
    communities: int
    cells: list[tuple[int, int, str, int, str, int, int, float]]
    # per cell: id, community id, community path, street id, street path, district index, street office
    # unit, weight
    units: int
    categories: int  # nodes of the tree
    leaves: list[int]  # leaf category ids, most common first (the Zipf rank)
    county_unit: dict[tuple[int, int], int | None]  # (leaf rank, district index) → unit; None: street office
    city_unit: list[int]  # per leaf rank: the city bureau
    district_cg: list[int]  # per district: the bureau a transferred case goes to when no bureau fits
    phone_ciphertext: str


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _square(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def build_city(seed: int, say: Callable[[str], None]) -> City:
    """The geography, units and categories (into an empty database)."""
    from django.conf import settings
    from django.db import transaction

    from civicgrid.cases.categories import do_import_categories
    from civicgrid.cases.demo_staff import CATEGORY_UNIT_TYPES, load_units
    from civicgrid.grids.actions import grid_cell_derived_fields
    from civicgrid.grids.models import GridCell
    from civicgrid.jurisdictions.actions import do_upsert_jurisdiction, do_upsert_unit, do_upsert_unit_type
    from civicgrid.jurisdictions.demo import CITY_UNITS, COUNTY_UNITS, TOWNSHIP_UNITS, UNIT_TYPES, unit_code
    from civicgrid.jurisdictions.models import Jurisdiction, Level
    from civicgrid.lib.codes import community_kind, grid_cell_code, short_community_name, township_kind

    rng = random.Random(seed)
    data = Path(settings.SHARED_DATA_DIR) / "divisions"
    cities = {r["code"]: r["name"] for r in _rows(data / "cities.csv")}
    areas = sorted((r["code"], r["name"]) for r in _rows(data / "areas.csv") if r["cityCode"] == CITY_CODE)
    streets_by_area: dict[str, list[tuple[str, str]]] = {}
    for r in _rows(data / "streets.csv"):
        if r["cityCode"] == CITY_CODE:
            streets_by_area.setdefault(r["areaCode"], []).append((r["code"], r["name"]))
    villages: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(data.glob("*_streets_villages.csv")):
        for r in _rows(path):
            villages.setdefault(r["town_code"], []).append((r["village_code"], r["village"]))

    with transaction.atomic():
        city, _ = do_upsert_jurisdiction(
            code=CITY_CODE + "00",
            name=cities[CITY_CODE],
            level=Level.CITY,
            parent=None,
            kind="市",
            actor=None,
        )
        districts: list[Jurisdiction] = []
        streets: list[tuple[Jurisdiction, int]] = []  # street, district index
        communities: list[tuple[Jurisdiction, Jurisdiction, int]] = []  # community, street, district index
        for d_index, (code, name) in enumerate(areas):
            district, _ = do_upsert_jurisdiction(
                code=code, name=name, level=Level.COUNTY, parent=city, kind=name[-1], actor=None
            )
            districts.append(district)
            for s_code, s_name in sorted(streets_by_area.get(code, []))[:STREETS_PER_DISTRICT]:
                street, _ = do_upsert_jurisdiction(
                    code=s_code,
                    name=s_name,
                    level=Level.TOWNSHIP,
                    parent=district,
                    kind=township_kind(s_code, s_name),
                    actor=None,
                )
                streets.append((street, d_index))
                kids = sorted(villages.get(s_code, [])) or [
                    (f"{s_code}{k:03d}", f"{s_name.removesuffix('街道')}第{k}社区")
                    for k in range(1, COMMUNITIES_PER_STREET + 1)
                ]
                for c_code, c_name in kids:
                    c_name = short_community_name(c_name)
                    community, _ = do_upsert_jurisdiction(
                        code=c_code,
                        name=c_name,
                        level=Level.COMMUNITY,
                        parent=street,
                        kind=community_kind(c_code, c_name),
                        actor=None,
                    )
                    communities.append((community, street, d_index))

        # Units: the demo's unit types, each district's bureaus (the demo's list and the extra bureaus of
        # the category tree), the city's, and a street office per street.
        types = {
            code: do_upsert_unit_type(code=code, name=name, sort_order=i, actor=None)
            for i, (code, name) in enumerate(UNIT_TYPES)
        }
        for i, (type_code, name) in enumerate(CITY_UNITS):
            do_upsert_unit(
                code=unit_code(city.code, type_code),
                name=city.name + name[1:],
                unit_type=types[type_code],
                jurisdiction=city,
                sort_order=i,
                actor=None,
            )
        for district in districts:
            load_units(district)  # the extra unit types, the district's and the city's extra bureaus
            short = district.name.removesuffix("区").removesuffix("县").removesuffix("市")
            for i, (type_code, pattern) in enumerate(COUNTY_UNITS):
                do_upsert_unit(
                    code=unit_code(district.code, type_code),
                    name=pattern.format(name=district.name, city=city.name, short=short),
                    unit_type=types[type_code],
                    jurisdiction=district,
                    sort_order=i,
                    actor=None,
                )
        office_type, office_pattern = TOWNSHIP_UNITS[0]
        offices: dict[int, int] = {}
        for street, _ in streets:
            office, _ = do_upsert_unit(
                code=unit_code(street.code, office_type),
                name=office_pattern.format(name=street.name),
                unit_type=types[office_type],
                jurisdiction=street,
                actor=None,
            )
            offices[street.pk] = office.pk
        do_import_categories(
            Path(settings.SHARED_DATA_DIR) / "messages" / "category_taxonomy.csv",
            unit_types=CATEGORY_UNIT_TYPES,
            actor=None,
        )

        # Grid cells: small squares on a lattice (the statistics read only the ids).
        cells = []
        for index, (community, _street, _) in enumerate(communities):
            lon, lat = 112.5 + (index % 40) * 0.02, 27.9 + (index // 40) * 0.02
            for k in range(1, CELLS_PER_COMMUNITY + 1):
                boundary = _square(lon + (k - 1) * 0.003, lat, 0.0025)
                cells.append(
                    GridCell(
                        code=grid_cell_code(community.code, k),
                        name=f"{community.name}第{k}网格",
                        community=community,
                        boundary=boundary,
                        household_count=rng.randint(150, 600),
                        **grid_cell_derived_fields(boundary),
                    )
                )
        GridCell.objects.bulk_create(cells, batch_size=1000)

    return read_city(seed, say)


def read_city(seed: int, say: Callable[[str], None]) -> City:
    """What the generator needs to know of the city built by ``build_city`` (read back from the tables)."""
    from civicgrid.cases.models import Category
    from civicgrid.core import crypto
    from civicgrid.grids.models import GridCell
    from civicgrid.jurisdictions.demo import TOWNSHIP_UNITS, unit_code
    from civicgrid.jurisdictions.models import Jurisdiction, Level, Unit

    rng = random.Random(seed + 1)
    city = Jurisdiction.objects.get(level=Level.CITY)
    districts = list(city.children.order_by("code"))
    district_of = {d.pk: i for i, d in enumerate(districts)}
    streets = {s.pk: s for s in Jurisdiction.objects.filter(level=Level.TOWNSHIP)}
    communities = {c.pk: c for c in Jurisdiction.objects.filter(level=Level.COMMUNITY)}
    units = {u.code: u.pk for u in Unit.objects.all()}
    office_type = TOWNSHIP_UNITS[0][0]
    cell_rows = []
    for pk, community_id in GridCell.objects.order_by("code").values_list("pk", "community_id"):
        community = communities[community_id]
        assert community.parent_id is not None
        street = streets[community.parent_id]
        assert street.parent_id is not None
        cell_rows.append(
            (
                pk,
                community.pk,
                community.path,
                street.pk,
                street.path,
                district_of[street.parent_id],
                units[unit_code(street.code, office_type)],
                math.exp(rng.gauss(0.0, CELL_WEIGHT_SIGMA)),
            )
        )

    # The lead unit of each leaf category: the bureau of its unit type (inherited from above).
    categories = list(Category.objects.filter(is_active=True).select_related("unit_type").order_by("path"))
    by_id = {c.pk: c for c in categories}
    parents = {c.parent_id for c in categories}

    def unit_type_of(category: Category) -> str | None:
        node: Category | None = category
        while node is not None and node.unit_type_id is None:
            node = by_id.get(node.parent_id) if node.parent_id else None
        return node.unit_type.code if node is not None and node.unit_type is not None else None

    leaves = [c for c in categories if c.pk not in parents]
    rng.shuffle(leaves)  # the Zipf rank: not the taxonomy's order
    county_unit: dict[tuple[int, int], int | None] = {}
    city_unit: list[int] = []
    city_cg = units[unit_code(city.code, "cg")]
    for rank, leaf in enumerate(leaves, start=1):
        kind = unit_type_of(leaf) or "cg"
        city_unit.append(units.get(unit_code(city.code, kind), city_cg))
        for d_index, district in enumerate(districts):
            county_unit[(rank, d_index)] = (
                None
                if kind in STREET_TYPES
                else units.get(unit_code(district.code, kind))
                or units.get(unit_code(city.code, kind))
                or units[unit_code(district.code, "cg")]
            )
    say(
        f"  city: {len(districts)} districts, {len(streets)} streets, {len(communities)} communities, "
        f"{len(cell_rows)} grid cells, {len(units)} units, {len(categories)} categories ({len(leaves)} leaves)"
    )
    return City(
        city_id=city.pk,
        city_path=city.path,
        districts=[(d.pk, d.code, d.path) for d in districts],
        streets=len(streets),
        communities=len(communities),
        cells=cell_rows,
        units=len(units),
        categories=len(categories),
        leaves=[c.pk for c in leaves],
        county_unit=county_unit,
        city_unit=city_unit,
        district_cg=[units[unit_code(d.code, "cg")] for d in districts],
        phone_ciphertext=crypto.encrypt("13812345678"),
    )


# --- The cases (set-based SQL) -----------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    from civicgrid.cases.models import Case, CaseAssignment, CaseClock, CaseEvent, Revisit

    return {
        "case": Case._meta.db_table,
        "clock": CaseClock._meta.db_table,
        "assignment": CaseAssignment._meta.db_table,
        "event": CaseEvent._meta.db_table,
        "revisit": Revisit._meta.db_table,
    }


CLOCK_COLUMNS = [
    "case_id", "stage", "seq", "label", "unit", "limit_value", "warn_fraction", "serious_factor",
    "started_at", "deadline_at", "warn_at", "serious_at", "state", "paused_at", "paused_amount",
    "extended_amount", "stopped_at", "timing", "next_fire_at",
]  # fmt: skip
ASSIGNMENT_COLUMNS = [
    "case_id", "unit_id", "role", "status", "is_current", "dispatched_from_id", "dispatched_at",
    "return_due_at", "accepted_at", "returned_at", "return_reason", "return_basis", "replied_at", "reply",
]  # fmt: skip
EVENT_COLUMNS = ["case_id", "seq", "code", "at", "from_status", "to_status", "unit_id", "data"]
REVISIT_COLUMNS = ["case_id", "at", "channel", "reached", "resolution", "satisfaction", "comment"]


def _lookup_tables(cur: Any, city: City, seed: int) -> None:
    """Small tables the draws join: places (grid cells), categories by Zipf rank with their bureaus,
    districts, text pools."""
    titles, descriptions, replies, names = texts(seed)
    cur.execute("DROP TABLE IF EXISTS bench_places, bench_cats, bench_catunits, bench_districts, bench_texts")
    cur.execute(
        """CREATE UNLOGGED TABLE bench_places (place int PRIMARY KEY, cell_id bigint, community_id bigint,
               community_path text, street_id bigint, street_path text, district int, street_office bigint)"""
    )
    cur.execute(
        "CREATE UNLOGGED TABLE bench_cats (rank int PRIMARY KEY, category_id bigint, city_unit bigint)"
    )
    cur.execute(
        "CREATE UNLOGGED TABLE bench_catunits (rank int, district int, unit_id bigint, "
        "PRIMARY KEY (rank, district))"
    )
    cur.execute(
        "CREATE UNLOGGED TABLE bench_districts (district int PRIMARY KEY, id bigint, path text, cg bigint)"
    )
    cur.execute(
        "CREATE UNLOGGED TABLE bench_texts (text int PRIMARY KEY, title text, description text, reply text, "
        "name text)"
    )
    with cur.copy("COPY bench_places FROM STDIN") as copy:
        for place, row in enumerate(city.cells, start=1):
            copy.write_row((place, *row[:7]))
    with cur.copy("COPY bench_cats FROM STDIN") as copy:
        for rank, (category_id, unit) in enumerate(zip(city.leaves, city.city_unit, strict=True), start=1):
            copy.write_row((rank, category_id, unit))
    with cur.copy("COPY bench_catunits FROM STDIN") as copy:
        for (rank, district), unit_id in city.county_unit.items():
            copy.write_row((rank, district, unit_id))
    with cur.copy("COPY bench_districts FROM STDIN") as copy:
        for index, ((pk, _code, path), cg) in enumerate(zip(city.districts, city.district_cg, strict=True)):
            copy.write_row((index, pk, path, cg))
    with cur.copy("COPY bench_texts FROM STDIN") as copy:
        for text, pool in enumerate(zip(titles, descriptions, replies, names, strict=True), start=1):
            copy.write_row((text, *pool))
    cur.execute("ANALYZE bench_places, bench_cats, bench_catunits, bench_districts, bench_texts")


def _draws_sql() -> str:
    """One batch of cases (ids %(lo)s … %(hi)s): the random draws and everything that follows from them."""
    open_share = " ".join(
        f"WHEN t.received_at > %(now)s - interval '{days} days' THEN {share}"
        for days, share in OPEN_SHARE[:-1]
    )
    g = GROWTH
    # The day: the inverse of the cumulative volume (density ∝ 1 + GROWTH·x over the span), so ids grow
    # with time and the last days carry more cases than the first.
    day = (
        f"LEAST(%(days)s - 1, floor(%(days)s * (-1 + sqrt(1 + 2 * {g} * ((i - 0.5) / %(n)s) * (1 + {g} / 2)))"
        f" / {g})::int)"
    )
    last_h = """CASE s.status
        WHEN 'received' THEN 0 WHEN 'confirming' THEN s.e2 WHEN 'registered' THEN s.e2
        WHEN 'dispatched' THEN s.h3 WHEN 'return_requested' THEN s.h3 + s.e4 / 2
        WHEN 'handling' THEN CASE WHEN s.reopen > 0 THEN s.h7 + s.e9 / 2 ELSE s.h4 END
        WHEN 'waiting' THEN s.h4 + s.e5 / 2 WHEN 'suspended' THEN s.h4 + s.e5 / 2
        WHEN 'replied' THEN s.h5 WHEN 'resolved' THEN s.closed_h
        WHEN 'revisited' THEN s.revisit_h WHEN 'archived' THEN s.revisit_h + s.e8
        WHEN 'direct_answered' THEN s.e2 WHEN 'void' THEN s.e2 WHEN 'merged' THEN s.e2
        ELSE s.h3 END"""  # split, withdrawn
    return f"""
    CREATE UNLOGGED TABLE bench_gen AS
    WITH d AS (
      SELECT i, %(first_day)s::date + {day} AS day,
             random() AS r_tod, random() AS r_open, random() AS r_state, random() AS r_cat,
             random() AS r_place, random() AS r_channel, random() AS r_nature, random() AS r_class,
             random() AS r_urgency, random() AS r_text, random() AS r_owner, random() AS r_cell,
             random() AS r_ret, random() AS r_ext, random() AS r_rew, random() AS r_reo, random() AS r_sat,
             random() AS r_res, random() AS r_visit, random() AS r_clock, random() AS r_lim, random() AS r_misc,
             0.05 + random() * 1.45 AS e2, random() * 6 AS e3, 0.2 + 60 * power(random(), 10) AS e4,
             LEAST(2000, exp(ln(60) + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))) AS e5,
             4 + random() * 68 AS e6, 12 + random() * 96 AS e7, 48 + random() * 500 AS e8,
             24 + random() * 120 AS e9
        FROM generate_series(%(lo)s, %(hi)s) AS i
    ), t AS MATERIALIZED (
      SELECT d.*,
             CASE WHEN day = %(today)s::date THEN %(midnight)s + r_tod * (%(now)s - %(midnight)s)
                  ELSE (day + CASE WHEN r_tod < 0.85 THEN 8 + r_tod / 0.85 * 13
                                   ELSE (r_tod - 0.85) / 0.15 * 24 END * interval '1 hour')
                       AT TIME ZONE 'Asia/Shanghai' END AS received_at
        FROM d
    ), u AS MATERIALIZED (
      SELECT t.*,
             CASE WHEN r_open < (CASE {open_share} ELSE {OPEN_SHARE[-1][1]} END)
                  THEN {_pick("r_state", OPEN_STATES)} ELSE {_pick("r_state", CLOSED_STATES)} END AS status,
             width_bucket(r_cat, %(cat_bounds)s::float8[]) AS cat_rank,
             width_bucket(r_place, %(place_bounds)s::float8[]) AS place,
             1 + floor(r_text * {N_TEXTS})::int AS text,
             {_pick("r_class", HANDLING)} AS handling_class,
             extract(epoch FROM %(now)s - received_at) / 3600 AS age_h,
             -- an instant case (即办件) is handled within hours, not days
             CASE WHEN {_pick("r_class", HANDLING)} = 'instant' THEN 0.1 ELSE 1 END AS fast
        FROM t
    ), s AS MATERIALIZED (
      SELECT u.*,
             CASE WHEN status IN {_in(REVISITED)} AND r_reo < 0.003 THEN 2
                  WHEN status IN {_in(REVISITED)} AND r_reo < 0.02 THEN 1
                  WHEN status = 'handling' AND r_reo < 0.05 THEN 1 ELSE 0 END AS reopen,
             e2 AS h2, e2 + e3 AS h3, e2 + e3 + e4 AS h4, e2 + e3 + e4 + e5 * fast AS h5,
             e2 + e3 + e4 + e5 * fast + e6 AS h6, e2 + e3 + e4 + e5 * fast + e6 + e7 AS h7
        FROM u
    ), r AS MATERIALIZED (
      SELECT s.*,
             CASE WHEN reopen > 0 AND status IN {_in(VERIFIED)} THEN h7 + e9 + e6 / 2 ELSE h6 END AS closed_h,
             CASE WHEN reopen > 0 AND status IN {_in(VERIFIED)} THEN h7 + e9 + e6 / 2 + e7 / 2 ELSE h7 END
               AS revisit_h
        FROM s
    ), o AS MATERIALIZED (
      SELECT r.*,
             CASE WHEN status NOT IN {_in(REGISTERED)} THEN 'county'
                  WHEN r_owner < 0.15 THEN 'township' WHEN r_owner < 0.17 THEN 'community'
                  WHEN r_owner < 0.20 THEN 'city' WHEN r_owner < 0.205 THEN 'other' ELSE 'county' END AS owner,
             CASE WHEN status NOT IN {_in(REGISTERED)} THEN 0
                  WHEN r_owner >= 0.17 AND r_owner < 0.185 THEN 1 WHEN r_owner >= 0.185 AND r_owner < 0.20 THEN 2
                  WHEN r_owner >= 0.205 AND r_owner < 0.225 THEN 1 ELSE 0 END AS escalations,
             CASE WHEN status NOT IN {_in(DISPATCHED)} THEN 0
                  WHEN r_ret < 0.015 THEN 2 WHEN r_ret < 0.075 THEN 1 ELSE 0 END AS returns,
             CASE WHEN status IN {_in(ACCEPTED)} AND r_ext < 0.05 THEN 1 ELSE 0 END AS extensions,
             CASE WHEN status IN {_in(REPLIED)} AND r_rew < 0.03 THEN 1 ELSE 0 END AS reworks,
             CASE WHEN handling_class = 'instant' THEN 1 WHEN r_lim < 0.3 THEN 5 WHEN r_lim < 0.8 THEN 10
                  ELSE 15 END AS lim
        FROM r
    ), q AS MATERIALIZED (
      SELECT o.*, LEAST(1.0, age_h * 0.95 / GREATEST({last_h.replace("s.", "o.")}, 0.01)) AS scale
        FROM o
    )
    SELECT q.i, q.received_at, q.status, q.r_channel, q.r_nature, q.r_urgency, q.r_cell, q.r_sat, q.r_res,
           q.r_visit, q.r_clock, q.r_misc, q.text, q.handling_class, q.reopen, q.owner, q.escalations,
           q.returns, q.extensions, q.reworks, q.lim, q.e4, q.e9,
           q.received_at + q.h2 * q.scale * interval '1 hour' AS registered_at,
           q.received_at + q.h3 * q.scale * interval '1 hour' AS dispatched_at,
           q.received_at + q.h4 * q.scale * interval '1 hour' AS accepted_at,
           q.received_at + q.h5 * q.scale * interval '1 hour' AS replied_at,
           q.received_at + q.h7 * q.scale * interval '1 hour' AS first_revisit_at,
           q.received_at + CASE WHEN q.status = 'direct_answered' THEN q.e2 ELSE q.closed_h END
                           * q.scale * interval '1 hour' AS closed_at,
           q.received_at + q.revisit_h * q.scale * interval '1 hour' AS revisit_at,
           q.received_at + {last_h.replace("s.", "q.")} * q.scale * interval '1 hour' AS last_at,
           c.category_id, p.cell_id, p.community_id, p.community_path, p.street_id, p.street_path,
           p.district, p.street_office,
           CASE q.owner WHEN 'city' THEN %(city_id)s WHEN 'township' THEN p.street_id
                WHEN 'community' THEN p.community_id WHEN 'other' THEN od.id ELSE dd.id END AS owner_id,
           CASE q.owner WHEN 'city' THEN %(city_path)s WHEN 'township' THEN p.street_path
                WHEN 'community' THEN p.community_path WHEN 'other' THEN od.path ELSE dd.path END AS owner_path,
           CASE q.owner WHEN 'city' THEN 'city' WHEN 'township' THEN 'township'
                WHEN 'community' THEN 'community' ELSE 'county' END AS level,
           CASE WHEN q.status NOT IN {_in(DISPATCHED)} THEN NULL
                WHEN q.owner = 'city' THEN c.city_unit
                WHEN q.owner IN ('township', 'community') THEN p.street_office
                WHEN q.owner = 'other' THEN coalesce(ou.unit_id, od.cg)
                ELSE coalesce(cu.unit_id, p.street_office) END AS lead_unit,
           coalesce(ou.unit_id, od.cg) AS other_unit
      FROM q
      JOIN bench_cats c ON c.rank = q.cat_rank
      JOIN bench_places p ON p.place = q.place
      JOIN bench_districts dd ON dd.district = p.district
      JOIN bench_districts od ON od.district = (p.district + 1) %% %(districts)s
      JOIN bench_catunits cu ON cu.rank = q.cat_rank AND cu.district = p.district
      JOIN bench_catunits ou ON ou.rank = q.cat_rank AND ou.district = od.district
    """


def _clock_sql(table: str) -> str:
    """Acceptance and handling clocks from the case's times; late clocks of other stages for some."""
    columns = ", ".join(CLOCK_COLUMNS)
    # deadline, warn and serious: the limit (in hours ≈ working days × 33.6) from the start, × 0.8, × 1.5.
    timing = """CASE WHEN coalesce(stopped_at, %(now)s) >= started_at + h * 1.5 * interval '1 hour' THEN 'serious'
                     WHEN coalesce(stopped_at, %(now)s) >= started_at + h * interval '1 hour' THEN 'overdue'
                     WHEN coalesce(stopped_at, %(now)s) >= started_at + h * 0.8 * interval '1 hour'
                          AND stopped_at IS NULL THEN 'warning'
                     ELSE 'on_time' END"""
    next_fire = """CASE WHEN state <> 'running' THEN NULL
                        WHEN %(now)s < started_at + h * 0.8 * interval '1 hour' THEN started_at + h * 0.8 * interval '1 hour'
                        WHEN %(now)s < started_at + h * interval '1 hour' THEN started_at + h * interval '1 hour'
                        WHEN %(now)s < started_at + h * 1.5 * interval '1 hour' THEN started_at + h * 1.5 * interval '1 hour'
                        END"""
    return f"""
    INSERT INTO {table} ({columns})
    SELECT case_id, stage, 0, '', 'work_day', lim, 0.80, 1.5, started_at,
           started_at + h * interval '1 hour', started_at + h * 0.8 * interval '1 hour',
           started_at + h * 1.5 * interval '1 hour', state,
           CASE WHEN state = 'paused' THEN paused_at END, 0, 0, stopped_at, {timing}, {next_fire}
      FROM (
        SELECT g.i AS case_id, 'accept' AS stage, 1 AS lim, 33.6 AS h, g.dispatched_at AS started_at,
               CASE WHEN g.status IN {_in(ACCEPTED)} THEN 'stopped' ELSE 'running' END AS state,
               NULL::timestamptz AS paused_at,
               CASE WHEN g.status IN {_in(ACCEPTED)} THEN g.accepted_at END AS stopped_at
          FROM bench_gen g WHERE g.status IN {_in(DISPATCHED)}
        UNION ALL
        SELECT g.i, 'handle', g.lim, g.lim * 33.6, g.accepted_at,
               CASE WHEN g.status IN {_in(REPLIED)} THEN 'stopped'
                    WHEN g.status IN ('waiting', 'suspended') THEN 'paused' ELSE 'running' END,
               g.last_at, CASE WHEN g.status IN {_in(REPLIED)} THEN g.replied_at END
          FROM bench_gen g WHERE g.status IN {_in(ACCEPTED)}
        UNION ALL
        SELECT g.i, 'register', 1, extract(epoch FROM g.registered_at - g.received_at) / 3600 * 0.8,
               g.received_at, 'stopped', NULL, g.registered_at
          FROM bench_gen g WHERE g.status IN {_in(REGISTERED)} AND g.r_clock < 0.01
        UNION ALL
        SELECT g.i, 'verify', 3, extract(epoch FROM g.closed_at - g.replied_at) / 3600 * 0.8,
               g.replied_at, 'stopped', NULL, g.closed_at
          FROM bench_gen g WHERE g.status IN {_in(VERIFIED)} AND g.r_clock >= 0.01 AND g.r_clock < 0.03
        UNION ALL
        SELECT g.i, 'revisit', 2, extract(epoch FROM g.revisit_at - g.closed_at) / 3600 * 0.8,
               g.closed_at, 'stopped', NULL, g.revisit_at
          FROM bench_gen g WHERE g.status IN {_in(REVISITED)} AND g.r_clock >= 0.03 AND g.r_clock < 0.08
      ) AS k
     ORDER BY case_id, started_at
    """


def generate(
    url: str, n: int, seed: int, city: City, now: datetime.datetime, say: Callable[[str], None]
) -> dict[str, float]:
    """Write ``n`` cases and their clocks, assignments, events and revisits into tables with no cases yet;
    seconds per step (summed over the batches)."""
    import psycopg

    t = _tables()
    local_now = now.astimezone(datetime.timezone(datetime.timedelta(hours=8)))  # Asia/Shanghai: no DST
    today = local_now.date()
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    zipf = [1.0 / (rank**ZIPF_S) for rank in range(1, len(city.leaves) + 1)]
    params: dict[str, Any] = {
        "n": n,
        "days": DAYS,
        "now": now,
        "today": today,
        "midnight": midnight,
        "first_day": today - datetime.timedelta(days=DAYS - 1),
        "cat_bounds": _cumulative(zipf),
        "place_bounds": _cumulative([c[7] for c in city.cells]),
        "city_id": city.city_id,
        "city_path": city.city_path,
        "districts": len(city.districts),
        "phone": city.phone_ciphertext,
    }
    timings: dict[str, float] = {}

    def step(name: str, started: float) -> None:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

    case_sql = f"""
        INSERT INTO {t["case"]} ({", ".join(CASE_COLUMNS)})
        SELECT g.i,
               '430100-' || extract(year FROM g.received_at AT TIME ZONE 'Asia/Shanghai')::int || '-'
                 || lpad(g.i::text, 8, '0'),
               CASE WHEN ch = 'grid' THEN 'event' ELSE 'appeal' END, ch, {_pick("g.r_nature", NATURES)},
               CASE WHEN g.status = 'received' AND g.r_misc < 0.3 THEN NULL ELSE g.category_id END,
               g.handling_class, {_pick("g.r_urgency", URGENCY)}, x.title, x.description,
               x.name || '附近', CASE WHEN g.r_cell >= 0.1 THEN 112.5 + g.r_misc END,
               CASE WHEN g.r_cell >= 0.1 THEN 27.9 + g.r_misc END,
               CASE WHEN g.r_cell >= 0.1 THEN g.cell_id END,
               g.community_id, g.community_path, g.owner_id, g.level, g.owner_path, g.lead_unit,
               false, x.name, %(phone)s, md5(g.i::text) || md5((g.i + 1)::text), g.r_misc > 0.97, true,
               g.status, 3 + g.returns * 2 + g.reworks * 2 + g.reopen * 4 + g.extensions * 2, NULL,
               g.received_at,
               CASE WHEN g.status IN {_in(REGISTERED)} THEN g.registered_at END,
               CASE WHEN g.status IN {_in(DISPATCHED)} THEN g.dispatched_at END,
               CASE WHEN g.status IN {_in(REPLIED)} THEN g.replied_at END,
               CASE WHEN g.status IN {_in(VERIFIED)} OR g.status = 'direct_answered' THEN g.closed_at
                    WHEN g.status IN ('void', 'merged', 'split', 'withdrawn') THEN g.last_at END,
               g.last_at, NULL, '', 'on_time', false,
               CASE WHEN g.status IN {_in(REPLIED)} OR g.status = 'direct_answered' THEN x.reply ELSE '' END,
               false, false, 0, g.returns, g.reworks, g.reopen, g.extensions, g.escalations
          FROM bench_gen AS g
          JOIN bench_texts AS x ON x.text = g.text
          CROSS JOIN LATERAL (SELECT {_pick("g.r_channel", CHANNELS)} AS ch) AS c
         ORDER BY g.i
    """
    assignment_sql = f"""
        INSERT INTO {t["assignment"]} ({", ".join(ASSIGNMENT_COLUMNS)})
        SELECT case_id, unit_id, role, status, is_current, from_id, dispatched_at, NULL, accepted_at,
               returned_at, reason, '', replied_at, ''
          FROM (
            -- the current lead
            SELECT g.i AS case_id, g.lead_unit AS unit_id, 'lead' AS role,
                   CASE WHEN g.status IN {_in(REPLIED)} THEN 'replied'
                        WHEN g.status IN {_in(ACCEPTED)} THEN 'accepted' ELSE 'dispatched' END AS status,
                   true AS is_current, g.owner_id AS from_id, g.dispatched_at,
                   CASE WHEN g.status IN {_in(ACCEPTED)} THEN g.accepted_at END AS accepted_at,
                   NULL::timestamptz AS returned_at, '' AS reason,
                   CASE WHEN g.status IN {_in(REPLIED)} THEN g.replied_at END AS replied_at
              FROM bench_gen g WHERE g.status IN {_in(DISPATCHED)}
            UNION ALL
            -- leads that returned the case before the current one (returns are made before signing)
            SELECT g.i, g.other_unit, 'lead', 'returned', false, g.owner_id,
                   g.registered_at + (g.dispatched_at - g.registered_at) * k / (g.returns + 1.0), NULL,
                   g.registered_at + (g.dispatched_at - g.registered_at) * (k + 0.5) / (g.returns + 1.0),
                   '不属于本单位职责范围', NULL
              FROM bench_gen g CROSS JOIN LATERAL generate_series(0, g.returns - 1) AS k
             WHERE g.returns > 0
            UNION ALL
            -- a co-handling unit of a joint case
            SELECT g.i, g.street_office, 'assist',
                   CASE WHEN g.status IN {_in(REPLIED)} THEN 'replied' ELSE 'accepted' END, true, g.owner_id,
                   g.dispatched_at, g.accepted_at, NULL, '', NULL
              FROM bench_gen g WHERE g.handling_class = 'joint' AND g.status IN {_in(ACCEPTED)}
          ) AS a
         ORDER BY case_id, dispatched_at
    """
    event_sql = f"""
        INSERT INTO {t["event"]} ({", ".join(EVENT_COLUMNS)})
        SELECT g.i, 1, 'create', g.received_at, '', 'received', NULL::bigint, '{{}}'::jsonb FROM bench_gen g
        UNION ALL
        SELECT g.i, 2, 'answer_directly', g.closed_at, 'received', 'direct_answered', NULL,
               jsonb_build_object('answer', left(x.reply, 60))
          FROM bench_gen g JOIN bench_texts x ON x.text = g.text WHERE g.status = 'direct_answered'
         ORDER BY 1, 2
    """
    satisfaction = (
        "CASE WHEN g.r_sat >= 0.97 THEN 'not_rated' WHEN g.r_sat < 0.70 THEN 'satisfied' "
        "WHEN g.r_sat < 0.86 THEN 'basically' ELSE 'unsatisfied' END"
    )
    resolution = (
        "CASE WHEN g.r_sat >= 0.97 THEN '' WHEN g.r_res < 0.78 THEN 'resolved' "
        "WHEN g.r_res < 0.92 THEN 'partly' ELSE 'unresolved' END"
    )
    revisit_sql = f"""
        INSERT INTO {t["revisit"]} ({", ".join(REVISIT_COLUMNS)})
        SELECT case_id, at, channel, reached, resolution, satisfaction, '' FROM (
            -- the revisit that closed the last round
            SELECT g.i AS case_id, g.revisit_at AS at,
                   CASE WHEN g.r_visit < 0.9 THEN 'phone' ELSE 'sms' END AS channel,
                   g.r_sat < 0.97 AS reached, {resolution} AS resolution, {satisfaction} AS satisfaction
              FROM bench_gen g WHERE g.status IN {_in(REVISITED)}
            UNION ALL
            -- an earlier attempt that did not reach the resident
            SELECT g.i, g.revisit_at - interval '3 hours', 'phone', false, '', 'not_rated'
              FROM bench_gen g WHERE g.status IN {_in(REVISITED)} AND g.r_visit < 0.05
            UNION ALL
            -- the unsatisfied revisit before a reopening
            SELECT g.i, g.first_revisit_at, 'phone', true, 'unresolved', 'unsatisfied'
              FROM bench_gen g WHERE g.reopen > 0
          ) AS r
         ORDER BY case_id, at
    """

    # Client-side binding: CREATE TABLE AS takes no bind parameters.
    with psycopg.connect(url, autocommit=True) as conn, psycopg.ClientCursor(conn) as cur:
        for name, columns in (
            ("case", CASE_COLUMNS),
            ("clock", CLOCK_COLUMNS),
            ("assignment", ASSIGNMENT_COLUMNS),
            ("event", EVENT_COLUMNS),
            ("revisit", REVISIT_COLUMNS),
        ):
            _check_columns(cur, t[name], columns)
        # One backend, no parallel workers: random() after setseed() gives the same rows every run.
        cur.execute("SET max_parallel_workers_per_gather = 0")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET work_mem = '256MB'")
        # No foreign-key triggers during the load (every key comes from the tables themselves); only a
        # superuser may, else the triggers run.
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            cur.execute("SET session_replication_role = replica")
        dropped = [idx for name in t for idx in _secondary_indexes(cur, t[name])]
        for index, _ in dropped:
            cur.execute(f'DROP INDEX "{index}"')
        _lookup_tables(cur, city, seed)
        for lo in range(1, n + 1, BATCH):
            hi = min(n, lo + BATCH - 1)
            batch_started = time.perf_counter()
            started = time.perf_counter()
            cur.execute("SELECT setseed(%s)", (((seed + lo) % 1_000_003) / 1_000_003,))
            cur.execute("DROP TABLE IF EXISTS bench_gen")
            cur.execute(_draws_sql(), params | {"lo": lo, "hi": hi})
            step("draws", started)
            for name, sql in (
                ("cases", case_sql),
                ("clocks", _clock_sql(t["clock"])),
                ("assignments", assignment_sql),
                ("events", event_sql),
                ("revisits", revisit_sql),
            ):
                started = time.perf_counter()
                cur.execute(sql, params)
                step(name, started)
            say(f"    cases {lo:,}–{hi:,}: {time.perf_counter() - batch_started:.0f} s")
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{t['case']}', 'id'), {n})")
        cur.execute(
            "DROP TABLE bench_gen, bench_places, bench_cats, bench_catunits, bench_districts, bench_texts"
        )
        started = time.perf_counter()
        for _, definition in dropped:
            cur.execute(definition)
        step("indexes", started)
        say(f"    indexes: {timings['indexes']:.0f} s")
        started = time.perf_counter()
        cur.execute("SET session_replication_role = DEFAULT")
        for name in t.values():
            cur.execute(f"VACUUM ANALYZE {name}")
        step("vacuum analyze", started)
        say(f"    vacuum analyze: {timings['vacuum analyze']:.0f} s")
    return timings
