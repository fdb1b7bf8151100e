"""Import the division tree of a county into the jurisdiction table (idempotent: upserts by code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from civicgrid.jurisdictions.actions import do_upsert_jurisdiction
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.lib.codes import community_kind, short_community_name, township_kind
from civicgrid.lib.divisions import DivisionNode, load_county_tree

if TYPE_CHECKING:
    from civicgrid.accounts.models import User


@dataclass
class DivisionImportResult:
    created: int = 0
    updated: int = 0
    county: Jurisdiction | None = None


def _kind(node: DivisionNode) -> str:
    if node.level == "township":
        return township_kind(node.code, node.name)
    if node.level == "community":
        return community_kind(node.code, node.name)
    if node.level == "county":
        return node.name[-1]  # 区 / 县 / 市
    return "市"


@transaction.atomic
def do_import_county(data_dir: Path, county_code: str, *, actor: User | None) -> DivisionImportResult:
    tree = load_county_tree(data_dir, county_code)
    result = DivisionImportResult()

    def walk(node: DivisionNode, parent: Jurisdiction | None) -> Jurisdiction:
        name = short_community_name(node.name) if node.level == "community" else node.name
        # Boundaries are set by other steps (demo partition, GIS imports); re-importing names keeps them.
        jurisdiction, created = do_upsert_jurisdiction(
            code=node.code,
            name=name,
            level=node.level,
            parent=parent,
            kind=_kind(node),
            keep_boundary=True,
            actor=actor,
        )
        if created:
            result.created += 1
        else:
            result.updated += 1
        for child in node.children:
            walk(child, jurisdiction)
        return jurisdiction

    city = walk(tree, None)
    result.county = city.children.get(code=county_code)
    return result
