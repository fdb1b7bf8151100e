"""Demo step: the 天心区 tree from the NBS tables, areas partitioned from the real district boundary, units."""

from __future__ import annotations

import json
from typing import Any

from civicgrid.demo.context import DemoContext
from civicgrid.jurisdictions.actions import do_set_boundary, do_upsert_unit, do_upsert_unit_type
from civicgrid.jurisdictions.imports import do_import_county
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib.geometry import from_geojson, partition, snap, to_geojson

# (code, name) of unit types: data the admin can extend.
UNIT_TYPES = [
    ("hotline", "12345热线"),
    ("command_center", "网格化服务管理中心"),
    ("cg", "城管执法"),
    ("zj", "住房建设"),
    ("mz", "民政"),
    ("rs", "人力资源和社会保障"),
    ("wj", "卫生健康"),
    ("sj", "市场监管"),
    ("sf", "司法行政"),
    ("xf", "信访"),
    ("oversight", "督查"),
    ("police", "公安"),
    ("township_office", "街道办事处/乡镇政府"),
    ("service_center", "便民服务中心"),
    ("judicial_office", "司法所"),
    ("community_committee", "社区居委会/村委会"),
]
CITY_UNITS = [("hotline", "市12345政务服务便民热线中心"), ("cg", "市城市管理和综合执法局")]
COUNTY_UNITS = [
    ("command_center", "{name}网格化服务管理中心"),
    ("hotline", "{name}12345热线工作站"),
    ("cg", "{name}城市管理和综合执法局"),
    ("zj", "{name}住房和城乡建设局"),
    ("mz", "{name}民政局"),
    ("rs", "{name}人力资源和社会保障局"),
    ("wj", "{name}卫生健康局"),
    ("sj", "{name}市场监督管理局"),
    ("sf", "{name}司法局"),
    ("xf", "{name}信访局"),
    ("oversight", "{name}人民政府督查室"),
    ("police", "{city}公安局{short}分局"),
]
TOWNSHIP_UNITS = [
    ("township_office", "{name}办事处"),
    ("service_center", "{name}便民服务中心"),
    ("judicial_office", "{name}司法所"),
    ("police", "{short}派出所"),
]
# Rural communities (村) cover more ground than urban ones: they get a larger share of the district.
VILLAGE_AREA_WEIGHT = 4.0


def unit_code(jurisdiction_code: str, type_code: str) -> str:
    return f"{jurisdiction_code}-{type_code}"


def load(ctx: DemoContext) -> None:
    result = do_import_county(ctx.data_dir / "divisions", ctx.county_code, actor=None)
    county = result.county
    assert county is not None
    ctx.say(f"    {county.name}: {result.created} jurisdictions created, {result.updated} kept")
    _load_boundaries(ctx, county)
    _load_units(county)


def _district_boundary(ctx: DemoContext, county_code: str) -> dict[str, Any]:
    geo_dir = ctx.data_dir / "geo"
    for path in sorted(geo_dir.glob(f"*_{county_code}_*.geojson")) + sorted(geo_dir.glob("*_full.json")):
        collection = json.loads(path.read_text(encoding="utf-8"))
        for feature in collection.get("features", []):
            if str(feature.get("properties", {}).get("adcode")) == county_code:
                geometry: dict[str, Any] = feature["geometry"]
                return geometry
    raise FileNotFoundError(f"no boundary for {county_code} under {geo_dir}")


def _weight(node: Jurisdiction) -> float:
    return VILLAGE_AREA_WEIGHT if node.kind == "村" else 1.0


def _load_boundaries(ctx: DemoContext, county: Jurisdiction) -> None:
    """Real district outline; township and community areas are a deterministic partition of it (no official
    street-level polygons are published), townships in code order from north to south."""
    if county.boundary is None:
        county = do_set_boundary(
            county, to_geojson(snap(from_geojson(_district_boundary(ctx, county.code)))), actor=None
        )
    townships = list(county.children.filter(level=Level.TOWNSHIP).order_by("code"))
    if all(t.boundary is not None for t in townships) and all(
        c.boundary is not None for t in townships for c in t.children.all()
    ):
        return
    communities = {t.pk: list(t.children.order_by("code")) for t in townships}
    weights = [sum(_weight(c) for c in communities[t.pk]) or 1.0 for t in townships]
    county_geom = from_geojson(county.boundary or {})
    for township, area in zip(townships, partition(county_geom, weights), strict=True):
        township = do_set_boundary(township, to_geojson(area), actor=None)
        kids = communities[township.pk]
        for community, part in zip(kids, partition(area, [_weight(c) for c in kids]), strict=True):
            do_set_boundary(community, to_geojson(part), actor=None)
    ctx.say(
        f"    boundaries: {len(townships)} townships, {sum(map(len, communities.values()))} communities partitioned"
    )


def _load_units(county: Jurisdiction) -> None:
    types = {
        code: do_upsert_unit_type(code=code, name=name, sort_order=i, actor=None)
        for i, (code, name) in enumerate(UNIT_TYPES)
    }
    city = county.parent
    assert city is not None
    for i, (type_code, name) in enumerate(CITY_UNITS):
        do_upsert_unit(
            code=unit_code(city.code, type_code),
            name=city.name + name[1:],
            unit_type=types[type_code],
            jurisdiction=city,
            sort_order=i,
            actor=None,
        )
    short = county.name.removesuffix("区").removesuffix("县")
    for i, (type_code, pattern) in enumerate(COUNTY_UNITS):
        name = pattern.format(name=county.name, city=city.name, short=short)
        do_upsert_unit(
            code=unit_code(county.code, type_code),
            name=name,
            unit_type=types[type_code],
            jurisdiction=county,
            sort_order=i,
            actor=None,
        )
    for township in county.children.order_by("code"):
        t_short = township.name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        for i, (type_code, pattern) in enumerate(TOWNSHIP_UNITS):
            name = pattern.format(name=township.name, short=t_short)
            do_upsert_unit(
                code=unit_code(township.code, type_code),
                name=name,
                unit_type=types[type_code],
                jurisdiction=township,
                sort_order=i,
                actor=None,
            )
        for community in township.children.order_by("code"):
            suffix = "村民委员会" if community.kind == "村" else "居民委员会"
            do_upsert_unit(
                code=unit_code(community.code, "community_committee"),
                name=community.name + suffix,
                unit_type=types["community_committee"],
                jurisdiction=community,
                actor=None,
            )
