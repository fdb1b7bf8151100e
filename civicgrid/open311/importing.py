"""Importing service requests in Open311 form — GeoReport v2 JSON or XML, or CSV with the same field
names — as cases with their dates and statuses: history from another system, not new work.

Reading (``read_requests``) only parses: one ``ImportRow`` per record, or a ``RowError`` for a record whose
dates or coordinates cannot be read. Writing (``do_import_requests``) checks each row, matches or creates its
category and lead unit, and writes the cases in batches, each batch one transaction of bulk inserts:
the case, its handling clock(s), one ``import`` event, the lead unit's assignment and the ``ServiceRequest``
that remembers the source's id. ``(source, external_id)`` is unique, so a second run creates nothing.

What an imported case looks like:
- a closed request is ``archived`` (read-only history) with ``replied_at = closed_at`` = the closing time
  and the status notes as its reply; an open one is ``handling`` when its agency is a known unit, else
  ``registered``;
- its handling clock(s) are planned as for any case (as ``clocks.plan_clocks``: the TimeLimit rows decide)
  from the request time; a closed case's clock stopped at the closing time with the timing that time earns,
  an open case's clock runs with its timing as of now, and only thresholds still ahead are left for the
  sweeper (so it does not fire years of past alarms);
- the resident is anonymous (no one to revisit), and the number is drawn like any other
  (``<city code>-<year>-<6 digits>``, a block per city and year per batch).

Datetimes are ISO 8601; naive ones are read in the given time zone. The closing time is
``closed_datetime`` when the record has it, else ``updated_datetime`` (the spec: "For requests with
status=closed, this will be the date the request was closed"). Record numbers in errors count records
from 1 (for CSV: data rows, the header not counted).
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.text import slugify
from django.utils.timezone import localtime, make_aware
from django.utils.translation import gettext as _

from civicgrid.cases import changes, clocks
from civicgrid.cases.actions.catalog import do_save_category
from civicgrid.cases.actions.intake import _city_code, _owning_level
from civicgrid.cases.limits import LimitRow, limits_for
from civicgrid.cases.models import (
    AssignmentRole,
    AssignmentStatus,
    Case,
    CaseAssignment,
    CaseChange,
    CaseClock,
    CaseEvent,
    CaseNumberCounter,
    Category,
    Channel,
    ClockState,
    Kind,
    Stage,
)
from civicgrid.cases.workflow import Status
from civicgrid.grids.lookup import grid_index
from civicgrid.jurisdictions.actions import do_upsert_unit
from civicgrid.jurisdictions.models import Jurisdiction, Unit, UnitType
from civicgrid.lib import clock
from civicgrid.open311.actions import do_save_service_setting
from civicgrid.open311.importfile import (
    FORMATS,
    ImportFileError,
    ImportRow,
    RowError,
    read_requests,
    row_from_record,
)
from civicgrid.open311.models import Endpoint, ServiceRequest, ServiceSetting
from civicgrid.workcalendar.calendar import current_calendar

if TYPE_CHECKING:
    from civicgrid.accounts.models import User
    from civicgrid.grids.models import GridCell

IMPORT_EVENT = "import"  # CaseEvent.code of an imported case's one event
# Rows per transaction: big enough for bulk inserts to pay, small enough to hold the counter lock briefly.
BATCH_SIZE = 1000
TITLE_LENGTH = 40
SOURCE_LENGTH = 64  # ServiceRequest.source
CHILD_CODE_WIDTH = 4  # digits per level under a source's root category (a city has hundreds of services)


@dataclass
class ImportReport:
    created: int = 0
    skipped_existing: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    categories_created: int = 0
    units_created: int = 0

    @property
    def records(self) -> int:
        return self.created + self.skipped_existing + len(self.failed)

    @property
    def rows_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


# --- Mapping ---------------------------------------------------------------------------------------------

# Words of a source's channel name → our channel; the first rule with a matching word wins. Words, not
# substrings: "iPhone" is an app, "e-mail" is not a letter.
_CHANNEL_RULES: tuple[tuple[frozenset[str], Channel], ...] = (
    (frozenset({"email", "e-mail"}), Channel.OPEN311),
    (frozenset({"mobile", "app", "apps", "api", "iphone", "android", "ios", "smartphone"}), Channel.APP),
    (frozenset({"phone", "telephone", "voice", "call", "calls", "hotline", "311"}), Channel.HOTLINE),
    (frozenset({"web", "website", "internet", "online", "portal"}), Channel.WEB),
    (frozenset({"walk-in", "walkin", "person", "counter", "visit"}), Channel.VISIT),
    (frozenset({"mail", "letter", "post", "fax"}), Channel.LETTER),
)


def map_channel(raw: str) -> str:
    """Our channel for a source's channel name (unrecognised, or none: Open311)."""
    words = set(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)?", raw.lower()))
    for keywords, channel in _CHANNEL_RULES:
        if words & keywords:
            return channel
    return Channel.OPEN311


def make_title(description: str, fallback: str) -> str:
    """The first line's first sentence, at most TITLE_LENGTH characters; the service name when empty."""
    lines = description.strip().splitlines()
    text = re.split(r"(?<=[.!?])\s+|(?<=[。！？；])", lines[0] if lines else "", maxsplit=1)[0].strip()
    text = text or fallback.strip()
    if len(text) > TITLE_LENGTH:
        text = text[: TITLE_LENGTH - 1].rstrip() + "…"
    return text


_url_validator = URLValidator(schemes=["http", "https"])


def _media_url(value: str) -> str:
    if not value or len(value) > 1000:
        return ""
    try:
        _url_validator(value)
    except ValidationError:
        return ""
    return value


@dataclass
class _Checked:
    """A row that passed the checks, with aware datetimes."""

    row: ImportRow
    requested: datetime
    closed: datetime | None
    updated: datetime


def check_row(row: ImportRow, tz: tzinfo) -> _Checked | str:
    """The row with its datetimes made aware, or why it cannot be imported."""
    if not row.external_id:
        return _("service_request_id is missing.")
    if len(row.external_id) > 64:
        return _("service_request_id is longer than 64 characters.")
    if row.status not in ("open", "closed"):
        return _("status must be “open” or “closed”, not “%(value)s”.") % {"value": row.status[:20]}
    if row.requested_at is None:
        return _("requested_datetime is missing.")
    if not (row.service_code or row.service_name or row.group):
        return _("The request names no service (service_code, service_name or its group).")
    if (row.lon is None) != (row.lat is None):
        return _("Give both lat and long, or neither.")
    if row.lon is not None and row.lat is not None and not (-180 <= row.lon <= 180 and -90 <= row.lat <= 90):
        return _("The coordinates are out of range.")

    def aware(value: datetime | None) -> datetime | None:
        return make_aware(value, tz) if value is not None and value.tzinfo is None else value

    requested = aware(row.requested_at)
    assert requested is not None
    closed = None
    if row.status == "closed":
        closed = aware(row.closed_at or row.updated_at)
        if closed is None:
            return _("A closed request needs closed_datetime or updated_datetime.")
        if closed < requested:
            return _("Closed (%(closed)s) before it was requested (%(requested)s).") % {
                "closed": closed.isoformat(),
                "requested": requested.isoformat(),
            }
    # The last thing known to have happened to it (Open311's updated_datetime reads Case.updated_at).
    updated = max(x for x in (requested, closed, aware(row.updated_at)) if x is not None)
    return _Checked(row=row, requested=requested, closed=closed, updated=updated)


# --- Catalogue: categories and units --------------------------------------------------------------------


class _Catalogue:
    """Finds (and with ``create_missing`` creates) the category and the lead unit of each row, with
    everything it looked at kept for the whole import: a few hundred services and agencies, read once."""

    def __init__(
        self,
        endpoint: Endpoint,
        source: str,
        *,
        create_missing: bool,
        unit_type: UnitType | None,
        actor: User | None,
        report: ImportReport,
    ) -> None:
        self.endpoint = endpoint
        self.root_name = source[:64]
        self.create_missing = create_missing
        self.unit_type = unit_type
        self.actor = actor
        self.report = report
        categories = list(Category.objects.order_by("path"))
        self.by_code = {c.code: c for c in categories}
        self.by_parent_name: dict[tuple[int | None, str], Category] = {}
        for c in categories:
            self.by_parent_name.setdefault((c.parent_id, c.name), c)
        self.children_codes: dict[int | None, list[str]] = {}
        for c in categories:
            self.children_codes.setdefault(c.parent_id, []).append(c.code)
        units = (
            Unit.objects.filter(is_active=True, jurisdiction__path__startswith=endpoint.jurisdiction.path)
            .select_related("jurisdiction")
            .order_by("jurisdiction__path", "sort_order", "code")
        )
        # The unit nearest the endpoint's own level wins a name shared by several (shallowest path first).
        self.units_by_name: dict[str, Unit] = {}
        self.units_by_short: dict[str, Unit] = {}
        for unit in units:
            self.units_by_name.setdefault(unit.name, unit)
            self.units_by_short.setdefault(unit.short_name, unit)

    # Categories ---------------------------------------------------------------------------------------

    def category(self, row: ImportRow) -> Category | str:
        """The row's category, or why there is none."""
        if row.service_code and row.service_code in self.by_code:
            return self.by_code[row.service_code]
        name = (row.service_name or row.service_code)[:64].strip()
        group = row.group[:64].strip()
        root = self.by_parent_name.get((None, self.root_name))
        parent = root
        if root is not None and group and name:
            parent = self.by_parent_name.get((root.pk, group))
        # A request that names only its group (us311 has some) is filed under the group itself.
        found = self.by_parent_name.get((parent.pk, name or group)) if parent is not None else None
        if found is not None:
            return found
        if not self.create_missing:
            label = " / ".join(x for x in (row.service_code, group, name) if x)
            return _("Unknown service “%(service)s” (import with --create-missing to add it).") % {
                "service": label
            }
        try:
            root = root or self._create_root()
            if not name:
                return self._create(group, root, code="")
            parent = root
            if group:
                parent = self.by_parent_name.get((root.pk, group)) or self._create(group, root, code="")
            return self._create(name, parent, code=row.service_code)
        except ValidationError as exc:
            return _("The service cannot be added: %(error)s") % {"error": " ".join(exc.messages)}

    def _create_root(self) -> Category:
        # A top-level code of the catalogue's own scheme (two digits); the root is not offered to Open311
        # clients: an import brings history, not services to post to (the admin may list it).
        numbers = [int(c) for c in self.children_codes.get(None, []) if len(c) == 2 and c.isdigit()]
        number = max(numbers, default=0) + 1
        while f"{number:02d}" in self.by_code:
            number += 1
        if number > 99:
            raise ValidationError({"category": _("More than 99 top-level categories.")})
        root = self._save(Category(code=f"{number:02d}", name=self.root_name, parent=None))
        do_save_service_setting(ServiceSetting(category=root, is_listed=False), actor=self.actor)
        return root

    def _create(self, name: str, parent: Category, *, code: str) -> Category:
        """A child of ``parent``: the source's service_code as its code when it can be one (so the Open311
        service list shows the source's codes), else the parent's code and four digits."""
        usable = code and len(code) <= 32 and "/" not in code and code not in self.by_code
        if not usable:
            siblings = self.children_codes.get(parent.pk, [])
            width = len(parent.code) + CHILD_CODE_WIDTH
            numbers = [
                int(c[len(parent.code) :])
                for c in siblings
                if len(c) == width and c.startswith(parent.code) and c[len(parent.code) :].isdigit()
            ]
            number = max(numbers, default=0) + 1
            while f"{parent.code}{number:0{CHILD_CODE_WIDTH}d}" in self.by_code:
                number += 1
            code = f"{parent.code}{number:0{CHILD_CODE_WIDTH}d}"
            if len(code) > 32 or number >= 10**CHILD_CODE_WIDTH:
                raise ValidationError(
                    {"category": _("No free category code under “%(code)s”.") % {"code": parent.code}}
                )
        return self._save(Category(code=code, name=name, parent=parent))

    def _save(self, category: Category) -> Category:
        saved = do_save_category(category, actor=self.actor)
        self.by_code[saved.code] = saved
        self.by_parent_name[(saved.parent_id, saved.name)] = saved
        self.children_codes.setdefault(saved.parent_id, []).append(saved.code)
        self.report.categories_created += 1
        return saved

    # Units -------------------------------------------------------------------------------------------

    def unit(self, agency: str) -> Unit | None:
        name = agency[:100].strip()
        if not name:
            return None
        found = self.units_by_name.get(name)
        if found is None and len(name) <= 32:  # a longer name would match any unit that starts like it
            found = self.units_by_short.get(name)
        if found is not None or not (self.create_missing and self.unit_type is not None):
            return found
        unit, _created = do_upsert_unit(
            code=self._unit_code(name),
            name=name,
            unit_type=self.unit_type,
            jurisdiction=self.endpoint.jurisdiction,
            actor=self.actor,
        )
        self.units_by_name[unit.name] = unit
        self.units_by_short.setdefault(unit.short_name, unit)
        self.report.units_created += 1
        return unit

    def _unit_code(self, name: str) -> str:
        # Readable and new: do_upsert_unit would overwrite a unit that already has the code.
        prefix = f"{self.endpoint.jurisdiction.code}-"
        room = 32 - len(prefix) - 4  # Unit.code's length, less room for a "-NNN" suffix
        base = prefix + (slugify(name)[:room].strip("-") or "unit")
        code, n = base, 1
        while Unit.objects.filter(code=code).exists():
            n += 1
            code = f"{base}-{n}"
        return code


# --- Writing ---------------------------------------------------------------------------------------------


@dataclass
class _Built:
    checked: _Checked
    case: Case
    clocks: list[CaseClock]
    event: CaseEvent
    assignment: CaseAssignment | None
    request: ServiceRequest
    number_key: tuple[str, int]  # (city code, year)


class _Writer:
    def __init__(
        self,
        *,
        endpoint: Endpoint,
        source: str,
        catalogue: _Catalogue,
        actor: User | None,
        now: datetime,
    ) -> None:
        self.endpoint = endpoint
        self.source = source
        self.catalogue = catalogue
        self.actor = actor
        self.now = now
        self.levels: dict[str, Jurisdiction] = {}
        # Every imported case has the endpoint's nature and the default class and urgency, so its handling
        # limits depend on its category alone.
        self.limits: dict[int | None, list[LimitRow]] = {}
        self.calendar = current_calendar()
        self.seen: dict[str, int] = {}  # external id → the record that brought it in this run

    def write(self, batch: list[_Checked], report: ImportReport) -> None:
        """Write one batch in one transaction. A unique-key clash (another import of the same file running
        at the same time) rolls it back; the batch is then tried once more, without what now exists."""
        for attempt in range(2):
            try:
                created, skipped, failed, seen = self._write_once(batch)
            except IntegrityError:
                if attempt:
                    raise
                continue
            report.created += created
            report.skipped_existing += skipped
            report.failed.extend(failed)
            self.seen.update(seen)
            return

    def _write_once(self, batch: list[_Checked]) -> tuple[int, int, list[tuple[int, str]], dict[str, int]]:
        ids = [c.row.external_id for c in batch]
        existing = set(
            ServiceRequest.objects.filter(source=self.source, external_id__in=ids).values_list(
                "external_id", flat=True
            )
        )
        failed: list[tuple[int, str]] = []
        seen: dict[str, int] = {}
        skipped = 0
        ready: list[tuple[_Checked, Category, Unit | None]] = []
        for checked in batch:
            row = checked.row
            first = self.seen.get(row.external_id) or seen.get(row.external_id)
            if first is not None:
                failed.append(
                    (
                        row.record,
                        _("service_request_id %(id)s was already read in record %(first)s.")
                        % {"id": row.external_id, "first": first},
                    )
                )
                continue
            seen[row.external_id] = row.record
            if row.external_id in existing:
                skipped += 1
                continue
            category = self.catalogue.category(row)
            if isinstance(category, str):
                failed.append((row.record, category))
                continue
            ready.append((checked, category, self.catalogue.unit(row.agency)))
        if not ready:
            return 0, skipped, failed, seen
        index = grid_index()  # once per batch: every lookup below reads it, none asks the database
        self.calendar = current_calendar()
        built = [self._build(checked, category, unit, index) for checked, category, unit in ready]
        with transaction.atomic():
            self._number(built)
            Case.objects.bulk_create([b.case for b in built])
            CaseClock.objects.bulk_create([k for b in built for k in b.clocks])
            CaseEvent.objects.bulk_create([b.event for b in built])
            CaseAssignment.objects.bulk_create([b.assignment for b in built if b.assignment is not None])
            ServiceRequest.objects.bulk_create([b.request for b in built])
            CaseChange.objects.bulk_create(changes.new_case_rows(b.case for b in built))
        return len(built), skipped, failed, seen

    def _place(self, row: ImportRow, index: Any) -> tuple[Jurisdiction, GridCell | None]:
        """The grid cell under the point when it lies in the endpoint's area (its community is where the
        case happened), else the endpoint's jurisdiction."""
        area = self.endpoint.jurisdiction
        if row.lon is not None and row.lat is not None:
            cell_id = index.locate(row.lon, row.lat)
            cell = index.cells.get(cell_id) if cell_id is not None else None
            if cell is not None and cell.community.path.startswith(area.path):
                return cell.community, cell
        return area, None

    def _level(self, origin: Jurisdiction) -> Jurisdiction:
        found = self.levels.get(origin.path)
        if found is None:
            found = self.levels[origin.path] = _owning_level(origin, None)
        return found

    def _build(self, checked: _Checked, category: Category, unit: Unit | None, index: Any) -> _Built:
        row = checked.row
        requested, closed = checked.requested, checked.closed
        origin, cell = self._place(row, index)
        level_node = self._level(origin)
        if closed is not None:
            status = Status.ARCHIVED
        else:
            status = Status.HANDLING if unit is not None else Status.REGISTERED
        service = row.service_name or row.service_code or row.group
        description = row.description or service
        case = Case(
            kind=Kind.APPEAL,
            channel=map_channel(row.channel_raw),
            nature=self.endpoint.default_nature,
            category=category,
            title=make_title(row.description, service),
            description=description[:20000],
            address=row.address[:200],
            lon=row.lon,
            lat=row.lat,
            grid_cell=cell,
            origin=origin,
            origin_path=origin.path,
            jurisdiction=level_node,
            level=level_node.level,
            level_path=level_node.path,
            lead_unit=unit,
            is_anonymous=True,
            needs_revisit=False,
            status=status,
            version=1,
            intake_key=None,
            created_by=self.actor,
            received_at=requested,
            # The last thing known to have happened to it (Open311's updated_datetime reads this).
            updated_at=checked.updated,
            registered_at=requested,
            # Dispatched only when we know to whom: an open request without a known unit waits at its desk.
            dispatched_at=requested if unit is not None else None,
            replied_at=closed,
            closed_at=closed,
            reply=row.status_notes if closed is not None else "",
        )
        planned = self._clocks(case, requested, closed)
        data: dict[str, Any] = {
            "source": self.source,
            "external_id": row.external_id,
            "status_raw": row.status_raw,
            "channel_raw": row.channel_raw,
        }
        if closed is None and row.status_notes:
            data["status_notes"] = row.status_notes  # an open case has no reply to hold them
        if row.closed_at is not None and closed is None:
            data["closed_datetime"] = row.closed_at.isoformat()  # given on an open request: kept, unused
        if row.extra:
            data["extra"] = row.extra
        event = CaseEvent(
            case=case,
            seq=1,
            code=IMPORT_EVENT,
            actor=self.actor,
            at=requested,
            from_status="",
            to_status=status,
            unit=unit,
            data=data,
        )
        assignment = None
        if unit is not None:
            assignment = CaseAssignment(
                case=case,
                unit=unit,
                role=AssignmentRole.LEAD,
                # As an archived case's lead ends: it replied, and the case no longer sits with it.
                status=AssignmentStatus.REPLIED if closed is not None else AssignmentStatus.ACCEPTED,
                is_current=closed is None,
                dispatched_from=level_node,
                dispatched_by=self.actor,
                dispatched_at=requested,
                accepted_at=requested,
                replied_at=closed,
                reply=case.reply,
            )
        request = ServiceRequest(
            case=case,
            endpoint=self.endpoint,
            token=secrets.token_hex(16),
            source=self.source,
            external_id=row.external_id,
            address_id=row.address_id[:64],
            zipcode=row.zipcode[:16],
            media_url=_media_url(row.media_url),
            attributes=row.attributes,
            agency=row.agency[:200],
            status_raw=row.status_raw[:64],
            created_at=requested,
        )
        return _Built(
            checked=checked,
            case=case,
            clocks=planned,
            event=event,
            assignment=assignment,
            request=request,
            number_key=(_city_code(origin), localtime(requested).year),
        )

    def _plan_handling(self, case: Case, at: datetime) -> list[CaseClock]:
        """What ``clocks.plan_clocks(case, Stage.HANDLE, at=at)`` plans, with the limits looked up once per
        category and the calendar once per batch: plan_clocks asks both caches for every case, which
        re-reads the tables whenever CACHE_RECHECK_SECONDS has passed (0 in tests: 16,984 re-reads). A
        test compares the two."""
        category = case.category
        key = category.pk if category is not None else None
        rows = self.limits.get(key)
        if rows is None:
            rows = self.limits[key] = limits_for(
                Stage.HANDLE,
                category_codes=category.ancestor_codes if category is not None else [],
                nature=case.nature,
                handling_class=case.handling_class,
                urgency=case.urgency,
            )
        planned = []
        for row in rows:
            k = CaseClock(
                case=case,
                stage=Stage.HANDLE,
                seq=row.seq,
                label=row.label,
                unit=row.unit,
                limit_value=row.value,
                warn_fraction=row.warn_fraction,
                serious_factor=row.serious_factor,
                started_at=at,
            )
            value = float(row.value)
            k.deadline_at = self.calendar.add(at, value, row.unit)
            k.warn_at = self.calendar.add(at, value * float(row.warn_fraction), row.unit)
            k.serious_at = self.calendar.add(at, value * float(row.serious_factor), row.unit)
            planned.append(k)
        return planned

    def _clocks(self, case: Case, requested: datetime, closed: datetime | None) -> list[CaseClock]:
        """The handling clock(s) as any case would get them from the request time: stopped at the closing
        time with the timing it earned, or running with its timing as of now and only the thresholds still
        ahead left to fire. The case's due columns follow (clocks.refresh_due)."""
        planned = self._plan_handling(case, requested)
        running: list[CaseClock] = []
        for k in planned:
            if closed is not None:
                k.state = ClockState.STOPPED
                k.stopped_at = closed
                k.timing = clocks.timing_at(k, closed)
                k.next_fire_at = None
                if k.is_late:
                    case.was_overdue = True
            else:
                k.timing = clocks.timing_at(k, self.now)
                k.next_fire_at = clocks.next_fire(k)  # the first threshold not passed yet, or None
                running.append(k)
        was_overdue = case.was_overdue
        clocks.refresh_due(case, at=self.now, running_clocks=running)
        case.was_overdue = case.was_overdue or was_overdue
        return planned

    def _number(self, built: list[_Built]) -> None:
        """Numbers for the batch: a block per city and year, reserved by one locked bump of the counter
        (gaps are allowed — a rolled-back batch leaves one — duplicates are not)."""
        wanted = Counter(b.number_key for b in built)
        first: dict[tuple[str, int], int] = {}
        for (city, year), n in sorted(wanted.items()):
            first[(city, year)] = _reserve(city, year, n)
        for b in built:
            city, year = b.number_key
            b.case.number = f"{city}-{year}-{first[(city, year)]:06d}"
            first[(city, year)] += 1


def _reserve(city: str, year: int, n: int) -> int:
    """The first of ``n`` new numbers of the city and year. The UPDATE locks the counter row until the
    batch commits (a live intake of the same city and year waits that long, a batch is short)."""
    counters = CaseNumberCounter.objects.filter(city_code=city, year=year)
    for _attempt in range(2):
        if counters.update(last=F("last") + n):
            last = counters.values_list("last", flat=True).get()
            return int(last) - n + 1
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(city_code=city, year=year, last=n)
            return 1
        except IntegrityError:  # an intake created the row first: bump it
            continue
    raise RuntimeError(f"no case number counter for {city}/{year}")


def _require_operator(actor: User | None) -> None:
    # An import creates categories and units, city-wide data: platform operators only (or the system).
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only platform operators may import service requests."))


def do_import_requests(
    rows: Iterable[ImportRow | RowError],
    *,
    endpoint: Endpoint,
    source: str,
    create_missing: bool,
    unit_type: UnitType | None,
    timezone: tzinfo,
    actor: User | None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import the rows as cases of ``endpoint``'s area, each batch of ``batch_size`` in one transaction.
    Rows already imported from ``source`` (same id) are skipped; rows that cannot be imported are reported
    with their record number and the reason, and nothing of them is written.

    ``create_missing``: a service not in the catalogue is added under a root category named after the
    source (else the row fails), and with ``unit_type`` an agency that is not a unit of the endpoint's
    area becomes one (else the case has no lead unit; the agency's name is kept either way)."""
    _require_operator(actor)
    source = (source or "").strip()
    if not source or len(source) > SOURCE_LENGTH:
        raise ValidationError(
            {"source": _("Name the source in 1 to %(n)s characters.") % {"n": SOURCE_LENGTH}}
        )
    started = time.monotonic()
    report = ImportReport()
    catalogue = _Catalogue(
        endpoint,
        source,
        create_missing=create_missing,
        unit_type=unit_type,
        actor=actor,
        report=report,
    )
    writer = _Writer(endpoint=endpoint, source=source, catalogue=catalogue, actor=actor, now=clock.now())
    batch: list[_Checked] = []
    for item in rows:
        if isinstance(item, RowError):
            report.failed.append((item.record, item.reason))
            continue
        checked = check_row(item, timezone)
        if isinstance(checked, str):
            report.failed.append((item.record, checked))
            continue
        batch.append(checked)
        if len(batch) >= batch_size:
            writer.write(batch, report)
            batch = []
    if batch:
        writer.write(batch, report)
    report.failed.sort()
    report.seconds = time.monotonic() - started
    return report


__all__ = [
    "FORMATS",
    "IMPORT_EVENT",
    "ImportFileError",
    "ImportReport",
    "ImportRow",
    "RowError",
    "check_row",
    "do_import_requests",
    "make_title",
    "map_channel",
    "read_requests",
    "row_from_record",
]
