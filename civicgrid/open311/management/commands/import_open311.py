from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from civicgrid.jurisdictions.models import UnitType
from civicgrid.open311.importing import FORMATS, ImportFileError, do_import_requests, read_requests
from civicgrid.open311.models import Endpoint

SHOWN_FAILURES = 20


class Command(BaseCommand):
    help = (
        "Import service requests in Open311 form (a JSON array as GET requests returns it, XML "
        "<service_requests>, or CSV with the Open311 field names) as cases with their dates and statuses. "
        "Idempotent: a request already imported from the same source is skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the file to import")
        parser.add_argument(
            "--endpoint", required=True, metavar="JID", help="the Open311 endpoint's jurisdiction_id"
        )
        parser.add_argument(
            "--source",
            required=True,
            metavar="NAME",
            help="where the requests come from (with their ids, the key that makes a re-run skip them)",
        )
        parser.add_argument("--format", choices=FORMATS, default="auto", help="default: from the file name")
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="add unknown services under a category named after the source (and agencies as units, "
            "with --unit-type); without it a request of an unknown service fails",
        )
        parser.add_argument(
            "--unit-type", metavar="CODE", help="the unit type of agencies created by --create-missing"
        )
        parser.add_argument(
            "--timezone",
            default=settings.TIME_ZONE,
            metavar="TZ",
            help="the zone of datetimes given without one (default: %(default)s)",
        )
        parser.add_argument("--limit", type=int, metavar="N", help="import only the first N records")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(_("There is no file %(path)s.") % {"path": path})
        endpoint = Endpoint.objects.select_related("jurisdiction").filter(code=options["endpoint"]).first()
        if endpoint is None:
            raise CommandError(_("There is no Open311 endpoint “%(code)s”.") % {"code": options["endpoint"]})
        unit_type = None
        if options["unit_type"]:
            unit_type = UnitType.objects.filter(code=options["unit_type"]).first()
            if unit_type is None:
                raise CommandError(_("There is no unit type “%(code)s”.") % {"code": options["unit_type"]})
        try:
            zone = ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(_("Unknown time zone “%(tz)s”.") % {"tz": options["timezone"]}) from None
        if options["limit"] is not None and options["limit"] < 0:
            raise CommandError(_("--limit must not be negative."))
        rows = read_requests(path, options["format"])
        try:
            report = do_import_requests(
                itertools.islice(rows, options["limit"]),
                endpoint=endpoint,
                source=options["source"],
                create_missing=options["create_missing"],
                unit_type=unit_type,
                timezone=zone,
                actor=None,
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            _(
                "%(path)s: %(records)s records; %(created)s created, %(skipped)s already imported, "
                "%(failed)s failed; %(categories)s categories and %(units)s units created; "
                "%(seconds).1f s (%(rate).0f records/s)"
            )
            % {
                "path": path.name,
                "records": report.records,
                "created": report.created,
                "skipped": report.skipped_existing,
                "failed": len(report.failed),
                "categories": report.categories_created,
                "units": report.units_created,
                "seconds": report.seconds,
                "rate": report.rows_per_second,
            }
        )
        for record, reason in report.failed[:SHOWN_FAILURES]:
            self.stdout.write(_("  record %(record)s: %(reason)s") % {"record": record, "reason": reason})
        if len(report.failed) > SHOWN_FAILURES:
            self.stdout.write(_("  … and %(n)s more") % {"n": len(report.failed) - SHOWN_FAILURES})
