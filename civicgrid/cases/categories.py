"""Importing the portal's three-level category taxonomy (分类) into the category tree.

``do_import_categories`` is the action for bulk imports (single categories, limits and rules are edited
through civicgrid.cases.actions.catalog): it validates, runs in a transaction and takes a keyword-only
``actor`` (None = system work: the import command, the demo loader).
The catalogue is city-wide data (it has no jurisdiction), so only platform operators (superusers) may
change it; district administrators edit their own trees and units, not the shared classification.

Codes are two digits per level in file order ("01", "0101", "010101"), so ``path`` is "01/0101/010101/".
A node is matched on (parent, name), never on its code: a second import of the same file changes nothing,
and an import of a newer file keeps every existing code and appends new nodes after their siblings.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.permissions import scope_of
from civicgrid.cases.models import Category
from civicgrid.jurisdictions.models import UnitType

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

HEADER: tuple[str, str, str] = ("一级分类", "二级分类", "三级分类")
CODE_WIDTH = 2  # digits per level: at most 99 children under one node
NAME_MAX = 64  # Category.name


@dataclass
class ImportResult:
    rows: int = 0  # data rows read from the file
    nodes: int = 0  # distinct nodes in the file (all levels)
    created: int = 0
    updated: int = 0  # only the responsible unit type can change on an existing node
    unchanged: int = 0
    by_depth: dict[int, int] = field(default_factory=dict)  # distinct nodes in the file per depth


# A name path: ("城乡建设",), ("城乡建设", "城乡规划") or all three levels.
NamePath = tuple[str, ...]


def _require_operator(actor: User | None) -> None:
    if actor is not None and not scope_of(actor).is_superuser:
        raise PermissionDenied(_("Only platform operators may change the category catalogue."))


def read_taxonomy(csv_path: Path) -> tuple[list[NamePath], int]:
    """The file's nodes in file order, parents before children (each once), and the number of data rows.

    ValidationError naming the column or the row when the file is not the expected three-column table."""
    try:
        handle = csv_path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ValidationError(
            {"csv": _("Cannot read %(path)s: %(error)s") % {"path": csv_path, "error": exc}}
        ) from None
    with handle:
        reader = csv.reader(handle)
        header = [cell.strip() for cell in next(reader, [])]
        positions: list[int] = []
        for column in HEADER:
            if column not in header:
                raise ValidationError(
                    {
                        "csv": _("%(path)s: the column “%(column)s” is missing (the header is: %(header)s).")
                        % {"path": csv_path.name, "column": column, "header": ",".join(header) or "—"}
                    }
                )
            positions.append(header.index(column))
        seen: set[NamePath] = set()
        nodes: list[NamePath] = []
        rows = 0
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            rows += 1
            names: list[str] = []
            for column, position in zip(HEADER, positions, strict=True):
                name = row[position].strip() if position < len(row) else ""
                if not name:
                    raise ValidationError(
                        {
                            "csv": _("%(path)s, line %(line)s: “%(column)s” is empty.")
                            % {"path": csv_path.name, "line": line, "column": column}
                        }
                    )
                if len(name) > NAME_MAX:
                    raise ValidationError(
                        {
                            "csv": _("%(path)s, line %(line)s: “%(column)s” is longer than %(n)s characters.")
                            % {"path": csv_path.name, "line": line, "column": column, "n": NAME_MAX}
                        }
                    )
                names.append(name)
            for depth in range(1, len(names) + 1):
                path = tuple(names[:depth])
                if path not in seen:
                    seen.add(path)
                    nodes.append(path)
    if not nodes:
        raise ValidationError({"csv": _("%(path)s has no categories.") % {"path": csv_path.name}})
    return nodes, rows


def _unit_type_map(unit_types: Mapping[str, str] | None, nodes: list[NamePath]) -> dict[NamePath, UnitType]:
    """Keys are name paths joined by "/" ("城乡建设" or "城乡建设/城乡规划"); values are UnitType codes."""
    if not unit_types:
        return {}
    known = set(nodes)
    types = {t.code: t for t in UnitType.objects.filter(code__in=sorted(set(unit_types.values())))}
    mapped: dict[NamePath, UnitType] = {}
    for key, code in unit_types.items():
        path = tuple(part.strip() for part in key.split("/"))
        if path not in known:
            raise ValidationError(
                {"unit_types": _("“%(key)s” is not a category of the file.") % {"key": key}}
            )
        if code not in types:
            raise ValidationError({"unit_types": _("There is no unit type “%(code)s”.") % {"code": code}})
        mapped[path] = types[code]
    return mapped


def _next_code(prefix: str, siblings: list[Category], taken: set[str]) -> str:
    numbers = [
        int(c.code[len(prefix) :])
        for c in siblings
        if c.code.startswith(prefix)
        and len(c.code) == len(prefix) + CODE_WIDTH
        and c.code[len(prefix) :].isdigit()
    ]
    number = max(numbers, default=0) + 1
    while f"{prefix}{number:0{CODE_WIDTH}d}" in taken:  # a code an administrator gave by hand elsewhere
        number += 1
    if number >= 10**CODE_WIDTH:
        raise ValidationError(
            {
                "csv": _("More than %(n)s categories under “%(prefix)s”.")
                % {"n": 10**CODE_WIDTH - 1, "prefix": prefix or "—"}
            }
        )
    return f"{prefix}{number:0{CODE_WIDTH}d}"


@transaction.atomic
def do_import_categories(
    csv_path: Path | str,
    *,
    unit_types: Mapping[str, str] | None = None,
    actor: User | None,
) -> ImportResult:
    """Create the categories of the three-level taxonomy file that do not exist yet (matched on parent and
    name), in file order. ``unit_types`` maps a category's name path ("城乡建设" or "城乡建设/城乡规划") to
    the code of the unit type responsible for it (the 权责清单 default, inherited by the children); a
    mapped node whose unit type differs is updated, every other existing node is left as it is."""
    _require_operator(actor)
    nodes, rows = read_taxonomy(Path(csv_path))
    wanted_types = _unit_type_map(unit_types, nodes)
    result = ImportResult(rows=rows, nodes=len(nodes))
    existing = list(Category.objects.select_for_update().order_by("path"))
    taken = {c.code for c in existing}
    children: dict[int | None, list[Category]] = {}
    for category in existing:
        children.setdefault(category.parent_id, []).append(category)
    by_path: dict[NamePath, Category] = {}
    for path in nodes:
        result.by_depth[len(path)] = result.by_depth.get(len(path), 0) + 1
        parent = by_path[path[:-1]] if len(path) > 1 else None
        parent_key = parent.pk if parent else None
        siblings = children.setdefault(parent_key, [])
        node = next((c for c in siblings if c.name == path[-1]), None)
        unit_type = wanted_types.get(path)
        if node is None:
            code = _next_code(parent.code if parent else "", siblings, taken)
            node = Category.objects.create(
                code=code,
                name=path[-1],
                parent=parent,
                path=f"{parent.path if parent else ''}{code}/",
                depth=len(path),
                unit_type=unit_type,
                sort_order=len(siblings),
            )
            taken.add(code)
            siblings.append(node)
            result.created += 1
        elif unit_type is not None and node.unit_type_id != unit_type.pk:
            node.unit_type = unit_type
            node.save(update_fields=["unit_type"])
            result.updated += 1
        else:
            result.unchanged += 1
        by_path[path] = node
    return result
