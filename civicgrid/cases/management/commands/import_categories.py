from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.cases.categories import do_import_categories


class Command(BaseCommand):
    help = (
        "Import the three-level category taxonomy (一级分类,二级分类,三级分类) into the category tree. "
        "Idempotent: categories are matched on parent and name, existing codes are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "csv",
            nargs="?",
            type=Path,
            default=None,
            help="the taxonomy file (default: ../shared/data/messages/category_taxonomy.csv)",
        )
        parser.add_argument(
            "--unit-type",
            action="append",
            default=[],
            metavar="NAME=CODE",
            help="responsible unit type of a category, e.g. 城乡建设=zj or 城乡建设/城乡规划=zr (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["csv"] or settings.SHARED_DATA_DIR / "messages" / "category_taxonomy.csv"
        unit_types: dict[str, str] = {}
        for item in options["unit_type"]:
            name, sep, code = item.partition("=")
            if not sep or not name.strip() or not code.strip():
                raise CommandError(f"--unit-type needs NAME=CODE, got “{item}”")
            unit_types[name.strip()] = code.strip()
        try:
            result = do_import_categories(path, unit_types=unit_types or None, actor=None)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        levels = ", ".join(f"level {depth}: {n}" for depth, n in sorted(result.by_depth.items()))
        self.stdout.write(
            f"{path.name}: {result.rows} rows, {result.nodes} categories ({levels}); "
            f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
