"""Under which rollup keys a fact counts: its area nodes and its breakdown keys (read once per batch)."""

from __future__ import annotations

from functools import cache

from civicgrid.cases.models import Category
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.stats.definitions import Dim
from civicgrid.stats.facts import Fact


def _ancestors_by_path(rows: list[tuple[int, str]], separator: str = "/") -> dict[int, tuple[int, ...]]:
    """id → its own id and its ancestors' ids, from materialised paths ("a/b/c/")."""
    by_path = {path: pk for pk, path in rows}
    out: dict[int, tuple[int, ...]] = {}
    for pk, path in rows:
        parts = [p for p in path.split(separator) if p]
        prefixes = [separator.join(parts[: i + 1]) + separator for i in range(len(parts))]
        out[pk] = tuple(by_path[p] for p in prefixes if p in by_path)
    return out


class Keys:
    """The area tree and the category tree as the statistics expand them. A case counts in every node
    above (and at) where it happened and every node above (and at) the desk that owns it — each node once —
    and under its category and every category above it."""

    def __init__(self) -> None:
        self.areas = _ancestors_by_path(list(Jurisdiction.objects.values_list("pk", "path")))
        self.categories = _ancestors_by_path(list(Category.objects.values_list("pk", "path")))
        self.nodes = cache(self._nodes)

    def _nodes(self, origin_id: int, owner_id: int) -> tuple[int, ...]:
        seen = dict.fromkeys(self.areas.get(origin_id, (origin_id,)))
        seen.update(dict.fromkeys(self.areas.get(owner_id, (owner_id,))))
        return tuple(seen)

    def dims(self, fact: Fact) -> list[tuple[str, str]]:
        """The (dimension, key) pairs of the monthly rollup this fact counts under."""
        out: list[tuple[str, str]] = [(Dim.CHANNEL, fact.channel), (Dim.NATURE, fact.nature)]
        if fact.category_id is not None:
            out += [
                (Dim.CATEGORY, str(pk)) for pk in self.categories.get(fact.category_id, (fact.category_id,))
            ]
        if fact.lead_unit_id is not None:
            out.append((Dim.UNIT, str(fact.lead_unit_id)))
        if fact.grid_cell_id is not None:
            out.append((Dim.GRID, str(fact.grid_cell_id)))
        return out
