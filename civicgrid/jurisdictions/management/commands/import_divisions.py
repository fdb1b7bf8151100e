from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.jurisdictions.imports import do_import_county
from civicgrid.lib.divisions import DivisionDataError


class Command(BaseCommand):
    help = "Import the city → county → township → community tree of one county from the NBS division tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("county_code", help="6-digit GB/T 2260 county code, e.g. 430103 (天心区)")
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="folder with areas.csv, streets.csv … (default: ../shared/data/divisions)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir: Path = options["data_dir"] or settings.SHARED_DATA_DIR / "divisions"
        if not (data_dir / "areas.csv").exists():
            raise CommandError(f"no division tables in {data_dir}")
        try:
            result = do_import_county(data_dir, options["county_code"], actor=None)
        except (DivisionDataError, ValidationError) as exc:
            raise CommandError(str(exc)) from None
        county = result.county
        assert county is not None
        townships = county.children.count()
        communities = county.subtree().filter(level="community").count()
        self.stdout.write(
            f"{county.name} ({county.code}): {townships} townships, {communities} communities; "
            f"{result.created} created, {result.updated} updated"
        )
