"""manage.py import_grid_cells FILE.geojson [--dry-run] [--tolerance-m2 5]

Checks the whole file first and writes nothing unless it has no errors (warnings do not block).
"""

from __future__ import annotations

import json
import math
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.grids.actions import do_import_grid_cells
from civicgrid.grids.importer import check_grid_import
from civicgrid.grids.models import GridCell


class Command(BaseCommand):
    help = "Import grid cells (网格) from a GeoJSON FeatureCollection, creating or updating them by code."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="GeoJSON FeatureCollection of grid cells")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
        parser.add_argument(
            "--tolerance-m2",
            type=float,
            default=5.0,
            help="overlaps and overhangs up to this many square metres are accepted (default 5)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        tolerance: float = options["tolerance_m2"]
        if not math.isfinite(tolerance) or tolerance < 0:
            raise CommandError(
                _("--tolerance-m2 must be a number of at least 0, got %(value)s.") % {"value": tolerance}
            )
        collection = _read_json(path)

        plan = check_grid_import(collection, tolerance_m2=tolerance)
        for problem in plan.warnings:
            self.stdout.write(self.style.WARNING(_("warning: %(feature)s: %(message)s") % vars(problem)))
        for problem in plan.errors:
            self.stderr.write(_("error: %(feature)s: %(message)s") % vars(problem))
        if not plan.ok:
            raise CommandError(
                _("%(path)s: %(count)d error(s), nothing was imported.")
                % {"path": path, "count": len(plan.errors)}
            )

        if options["dry_run"]:
            codes = [feature.code for feature in plan.features]
            existing = GridCell.objects.filter(code__in=codes).count()
            self.stdout.write(
                _("Dry run, nothing written: %(created)d cell(s) would be created, %(updated)d updated.")
                % {"created": len(codes) - existing, "updated": existing}
            )
            return
        result = do_import_grid_cells(plan, actor=None)
        done = _(
            "Imported %(path)s: %(created)d cell(s) created, %(updated)d updated, %(warnings)d warnings."
        )
        counts = {"created": result.created, "updated": result.updated, "warnings": len(plan.warnings)}
        self.stdout.write(self.style.SUCCESS(done % {"path": path, **counts}))


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate the BOM that some GIS exports write
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror or exc}
        ) from None
    except UnicodeDecodeError as exc:
        raise CommandError(
            _("%(path)s is not UTF-8 text (byte %(at)d).") % {"path": path, "at": exc.start}
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("%(path)s is not valid JSON: %(reason)s at line %(line)d, column %(column)d.")
            % {"path": path, "reason": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from None
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        raise CommandError(
            _("%(path)s is not usable JSON: %(reason)s") % {"path": path, "reason": exc}
        ) from None
