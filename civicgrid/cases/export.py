"""The case list as a file to take away: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese) and
.xlsx. The rows are whatever queryset the caller passes — the views pass the list's own (``Listing.cases``),
so a file holds exactly the cases the list shows, in the list's order (newest first).

Personal data: there is no column for the reporter (name or phone), and the free text that residents and
staff write — title, description, address, reply — goes through ``mask_in_text``, as Open311 publishes it,
so a mobile or ID number written into it leaves masked (138****5678). Long texts are cut to an excerpt
*after* masking, so the cut can never leave half a number readable.

Memory stays flat whatever the number of rows: one query (names through joins, the latest revisit and the
missed deadlines as subqueries, the long texts cut short in SQL) read in chunks with ``iterator()``, the
category names read once; the CSV is streamed as it is written, the workbook is written by openpyxl's
write-only mode into a temporary file that the response then sends.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Left
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import pgettext, pgettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from civicgrid.cases.models import (
    Case,
    CaseClock,
    Category,
    Channel,
    HandlingClass,
    Nature,
    Revisit,
    Satisfaction,
    Stage,
    Timing,
)
from civicgrid.cases.workflow import Group, Status, in_group
from civicgrid.jurisdictions.models import Level
from civicgrid.lib.masking import mask_in_text

EXCERPT = 500  # characters of the description and of the reply
# Read this many more than the excerpt, so a number straddling the cut is masked whole before cutting.
_SPARE = 32
CHUNK = 2000  # rows fetched per round trip
_CSV_BATCH = 500  # rows per piece of the streamed CSV
LATE = (Timing.OVERDUE, Timing.SERIOUS)
OPEN = frozenset(in_group(Group.OPEN))

Value = str | datetime | None


@dataclass(frozen=True)
class Column:
    header: Promise
    width: int  # in the workbook, in characters
    is_time: bool = False  # a local date and time (a date cell in the workbook)


# In the order of the file. The headers are the words a 12345 desk uses in its own ledgers.
COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("case export", "Case number"), 20),
    Column(pgettext_lazy("case export", "Received at"), 17, is_time=True),
    Column(pgettext_lazy("case export", "Channel"), 10),
    Column(pgettext_lazy("case export", "Nature"), 8),
    Column(pgettext_lazy("case export", "Handling class"), 8),
    Column(pgettext_lazy("case export", "Category"), 30),
    Column(pgettext_lazy("case export", "Title"), 30),
    Column(pgettext_lazy("case export", "Description"), 50),
    Column(pgettext_lazy("case export", "Address"), 30),
    Column(pgettext_lazy("case export", "Township"), 14),
    Column(pgettext_lazy("case export", "Community"), 14),
    Column(pgettext_lazy("case export", "Grid cell"), 17),
    Column(pgettext_lazy("case export", "Status"), 10),
    Column(pgettext_lazy("case export", "Current desk"), 14),
    Column(pgettext_lazy("case export", "Lead unit"), 24),
    Column(pgettext_lazy("case export", "Current deadline"), 17, is_time=True),
    Column(pgettext_lazy("case export", "Overdue"), 8),
    Column(pgettext_lazy("case export", "Closed at"), 17, is_time=True),
    Column(pgettext_lazy("case export", "Handling result"), 50),
    Column(pgettext_lazy("case export", "Satisfaction (latest revisit)"), 12),
)
TIME_COLUMNS = tuple(i for i, c in enumerate(COLUMNS) if c.is_time)


@dataclass(frozen=True)
class Words:
    """Every word the rows use, translated once, in the language of the request. A streamed file is written
    after the view has returned, when that language may no longer be the active one; plain strings also
    spare a lazy translation per cell."""

    headers: list[str]
    sheet: str
    status: dict[str, str]
    channel: dict[str, str]
    nature: dict[str, str]
    handling_class: dict[str, str]
    satisfaction: dict[str, str]
    yes: str
    no: str

    @classmethod
    def in_active_language(cls) -> Words:
        def labels(choices: Iterable[tuple[Any, Any]]) -> dict[str, str]:
            return {str(value): str(label) for value, label in choices}

        return cls(
            headers=[str(c.header) for c in COLUMNS],
            sheet=pgettext("case export", "Cases")[:31],  # Excel's longest sheet name
            status=labels(Status.choices),
            channel=labels(Channel.choices),
            nature=labels(Nature.choices),
            handling_class=labels(HandlingClass.choices),
            satisfaction=labels(Satisfaction.choices),
            yes=pgettext("case export", "yes"),
            no=pgettext("case export", "no"),
        )


def _excerpt(text: str | None) -> str:
    masked = mask_in_text(text or "")
    return masked if len(masked) <= EXCERPT else masked[:EXCERPT] + "…"


def _local(at: datetime | None) -> datetime | None:
    """Local wall-clock time without a zone: what a spreadsheet can hold and what the desk reads."""
    return timezone.localtime(at).replace(tzinfo=None) if at is not None else None


def _category_names() -> dict[str, str]:
    # The catalogue is a few thousand rows at most: read once, not joined three levels deep per case.
    return dict(Category.objects.values_list("code", "name"))


def _query(cases: QuerySet[Case]) -> QuerySet[Case, dict[str, Any]]:
    latest_revisit = Revisit.objects.filter(case=OuterRef("pk")).order_by("-at", "-pk").values("satisfaction")
    # A deadline missed up to closing, as the statistics count 超期结案 (the revisit's clock runs after
    # closing and says nothing about the handling). ``Case.was_overdue`` includes it, so it is not used.
    missed = Exists(
        CaseClock.objects.filter(case=OuterRef("pk"), timing__in=LATE).exclude(stage=Stage.REVISIT)
    )
    return (
        cases.order_by("-received_at", "-pk")
        .annotate(
            latest_satisfaction=Subquery(latest_revisit[:1]),
            missed_deadline=missed,
            description_head=Left("description", EXCERPT + _SPARE),
            reply_head=Left("reply", EXCERPT + _SPARE),
        )
        .values(
            "number",
            "received_at",
            "channel",
            "nature",
            "handling_class",
            "category__path",
            "title",
            "description_head",
            "address",
            "origin__name",
            "origin__level",
            "origin__parent__name",
            "origin__parent__level",
            "grid_cell__code",
            "status",
            "jurisdiction__name",
            "lead_unit__name",
            "due_at",
            "timing",
            "closed_at",
            "reply_head",
            "latest_satisfaction",
            "missed_deadline",
        )
    )


def rows(cases: QuerySet[Case], now: datetime, words: Words) -> Iterator[list[Value]]:
    """One list per case, in COLUMNS' order: text, or local date-times (None where there is nothing)."""
    categories = _category_names()
    for r in _query(cases).iterator(chunk_size=CHUNK):
        path = r["category__path"] or ""
        places = {
            r["origin__level"]: r["origin__name"],
            r["origin__parent__level"]: r["origin__parent__name"],
        }
        is_open = r["status"] in OPEN
        if is_open:
            # The list's "overdue" queue (queries.overdue_q): past the deadline, marked by the sweep or not.
            late = (r["due_at"] is not None and r["due_at"] < now) or r["timing"] in LATE
        else:
            late = bool(r["missed_deadline"])
        yield [
            r["number"],
            _local(r["received_at"]),
            words.channel.get(r["channel"], r["channel"]),
            words.nature.get(r["nature"], r["nature"]),
            words.handling_class.get(r["handling_class"], r["handling_class"]),
            " / ".join(categories.get(code, code) for code in path.split("/") if code),
            mask_in_text(r["title"]),
            _excerpt(r["description_head"]),
            mask_in_text(r["address"]),
            places.get(Level.TOWNSHIP) or "",
            places.get(Level.COMMUNITY) or "",
            r["grid_cell__code"] or "",
            words.status.get(r["status"], r["status"]),
            r["jurisdiction__name"],
            r["lead_unit__name"] or "",
            _local(r["due_at"]) if is_open else None,  # a closed case's last deadline is history
            words.yes if late else words.no,
            _local(r["closed_at"]),
            _excerpt(r["reply_head"]),
            words.satisfaction.get(r["latest_satisfaction"] or "", ""),
        ]


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection): such text gets a
# leading apostrophe in the CSV, and is stored as text, never as a formula, in the workbook.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "'" + value if value.startswith(_FORMULA_START) else value


class _Echo:
    """A file for csv.writer that hands each written line back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def csv_chunks(cases: QuerySet[Case], now: datetime, words: Words) -> Iterator[bytes]:
    """The CSV in pieces of a few hundred rows, for a StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(words.headers)).encode()
    batch: list[str] = []
    for row in rows(cases, now, words):
        batch.append(writer.writerow([_csv_cell(v) for v in row]))
        if len(batch) >= _CSV_BATCH:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def write_xlsx(cases: QuerySet[Case], now: datetime, words: Words, target: IO[bytes]) -> None:
    """The workbook (one sheet, a bold frozen header row, dates as dates) written into ``target``."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(words.sheet)
    for i, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in words.headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows(cases, now, words):
        out: list[Any] = list(row)
        for i in TIME_COLUMNS:
            if row[i] is not None:
                out[i] = cell = WriteOnlyCell(sheet, value=row[i])
                cell.number_format = "yyyy-mm-dd hh:mm"
        for i, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                out[i] = cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # openpyxl would store it as a formula
        sheet.append(out)
    book.save(target)
