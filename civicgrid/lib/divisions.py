"""Reading the NBS administrative-division tables in ../shared/data/divisions/ (ORM-free)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DivisionNode:
    code: str
    name: str
    level: str  # city / county / township / community
    children: list[DivisionNode] = field(default_factory=list)


class DivisionDataError(Exception):
    pass


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_county_tree(data_dir: Path, county_code: str) -> DivisionNode:
    """City → county → townships → communities for one county.

    Townships come from streets.csv (every county); communities from the per-county village file
    (``*_<county>_streets_villages.csv``) where the data set has one, else the county has no communities.
    """
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise DivisionDataError(f"a county code has 6 digits, got {county_code!r}")
    areas = {row["code"]: row for row in _rows(data_dir / "areas.csv")}
    if county_code not in areas:
        raise DivisionDataError(f"county {county_code} is not in {data_dir / 'areas.csv'}")
    area = areas[county_code]
    cities = {row["code"]: row for row in _rows(data_dir / "cities.csv")}
    city_row = cities.get(area["cityCode"])
    if city_row is None:
        raise DivisionDataError(f"city {area['cityCode']} of county {county_code} is missing from cities.csv")
    provinces = {row["code"]: row["name"] for row in _rows(data_dir / "provinces.csv")}
    city_name = city_row["name"]
    if city_name in {"市辖区", "县"}:
        # Municipalities (北京, 上海 …) list their districts under "市辖区": the city is the province.
        city_name = provinces.get(area["provinceCode"], city_name)
    city = DivisionNode(code=area["cityCode"] + "00", name=city_name, level="city")
    county = DivisionNode(code=county_code, name=area["name"], level="county")
    city.children.append(county)

    townships: dict[str, DivisionNode] = {}
    for row in _rows(data_dir / "streets.csv"):
        if row["areaCode"] == county_code:
            townships[row["code"]] = DivisionNode(code=row["code"], name=row["name"], level="township")
    for village_file in sorted(data_dir.glob(f"*_{county_code}_streets_villages.csv")):
        for row in _rows(village_file):
            town = townships.setdefault(
                row["town_code"], DivisionNode(code=row["town_code"], name=row["town"], level="township")
            )
            town.children.append(
                DivisionNode(code=row["village_code"], name=row["village"], level="community")
            )
    county.children = [townships[code] for code in sorted(townships)]
    for town in county.children:
        town.children.sort(key=lambda node: node.code)
    return city
