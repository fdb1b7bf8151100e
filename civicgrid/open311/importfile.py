"""Reading service requests in Open311 form — GeoReport v2 JSON or XML, or CSV with the same field names —
into ``ImportRow`` values (or a ``RowError`` for a record whose dates or coordinates cannot be read). Only
parsing: civicgrid.open311.importing checks the rows and writes the cases.

Datetimes are ISO 8601 and stay naive when the file has no zone (the importer reads them in its time zone).
Record numbers count records from 1 (for CSV: data rows, the header not counted).
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.utils.translation import gettext as _

Format = Literal["auto", "json", "xml", "csv"]
FORMATS: tuple[str, ...] = ("auto", "json", "xml", "csv")


class ImportFileError(Exception):
    """The file as a whole cannot be read (not JSON, not XML, no id column …). JSON and XML are read whole
    first, so nothing is imported; a CSV that breaks part-way keeps the batches before the break (a
    re-run skips them)."""


@dataclass(frozen=True)
class ImportRow:
    """One request as read from the file: text as given, datetimes parsed (naive when the file has no zone)."""

    record: int
    external_id: str
    status: str
    requested_at: datetime | None
    status_raw: str = ""
    status_notes: str = ""
    service_code: str = ""
    service_name: str = ""
    group: str = ""  # the service group (us311's ``category`` column)
    description: str = ""
    agency: str = ""
    updated_at: datetime | None = None
    closed_at: datetime | None = None  # ``closed_datetime`` (an extension; Open311 itself has none)
    address: str = ""
    address_id: str = ""
    zipcode: str = ""
    lon: float | None = None
    lat: float | None = None
    media_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    channel_raw: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # the record's other fields, kept on the event


@dataclass(frozen=True)
class RowError:
    record: int
    reason: str


# --- Reading ---------------------------------------------------------------------------------------------

# Open311 request fields read into ImportRow (everything else is kept as ``extra``).
_TEXT_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "status_raw",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "closed_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
    "channel",
    "category",
    "group",
}
# Read but not imported: the spec's derived fields, and Chicago's history notes (the import records the
# state the request is in, not its past steps).
_IGNORED_FIELDS = {"notes", "service_notice", "expected_datetime", "token"}
_ATTRIBUTE_COLUMN = re.compile(r"^attribute\[(?P<code>[^\]]+)\]$")


def read_requests(path: Path | str, fmt: Format | str = "auto") -> Iterator[ImportRow | RowError]:
    """The requests of an Open311 file, one per record, in file order. ``ImportFileError`` (when the first
    row is asked for) when the file as a whole is unreadable."""
    path = Path(path)
    kind = _detect(path) if fmt == "auto" else fmt
    if kind == "json":
        records: Iterable[Mapping[str, Any]] = _json_records(path)
    elif kind == "xml":
        records = _xml_records(path)
    elif kind == "csv":
        records = _csv_records(path)
    else:
        raise ImportFileError(_("Unknown format “%(format)s”.") % {"format": fmt})
    for number, record in enumerate(records, start=1):
        yield row_from_record(number, record)


def _detect(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("json", "xml", "csv"):
        return suffix
    try:
        with path.open("rb") as handle:
            head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise ImportFileError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}) from None
    if head[:1] in (b"[", b"{"):
        return "json"
    return "xml" if head[:1] == b"<" else "csv"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFileError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}) from None


def _json_records(path: Path) -> Iterator[Mapping[str, Any]]:
    try:
        data = json.loads(_read_bytes(path).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(
            _("%(path)s is not JSON: %(error)s") % {"path": path.name, "error": exc}
        ) from None
    if isinstance(data, dict):  # some servers wrap the array: {"service_requests": [...]}
        data = data.get("service_requests", data.get("requests"))
    if not isinstance(data, list):
        raise ImportFileError(_("%(path)s is not an array of service requests.") % {"path": path.name})
    for item in data:
        yield item if isinstance(item, dict) else {}


def _xml_records(path: Path) -> Iterator[Mapping[str, Any]]:
    raw = _read_bytes(path)
    try:
        # defusedxml with DTDs forbidden: a service request list never needs one, and a DTD's entities are
        # the way to blow a parser up ("billion laughs") or make it read local files.
        root = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise ImportFileError(
            _("%(path)s: XML with a DTD or in UTF-16/32 is not accepted.") % {"path": path.name}
        ) from None
    except ET.ParseError as exc:
        raise ImportFileError(
            _("%(path)s is not XML: %(error)s") % {"path": path.name, "error": exc}
        ) from None
    requests = [root] if root.tag == "request" else list(root.iter("request"))
    for element in requests:
        value = _xml_value(element)
        yield value if isinstance(value, dict) else {}


def _xml_value(element: ET.Element) -> Any:
    """An element as JSON would have it: text for a leaf, a dict of its children (a list for a repeated
    child), e.g. ``<attributes><WHEREIST>TRAFFIC</WHEREIST></attributes>`` → {"WHEREIST": "TRAFFIC"}."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    result: dict[str, Any] = {}
    for child in children:
        value = _xml_value(child)
        if child.tag in result:
            previous = result[child.tag]
            result[child.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            result[child.tag] = value
    return result


def _csv_records(path: Path) -> Iterator[Mapping[str, Any]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}) from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader, [])]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ImportFileError(_("%(path)s: %(error)s") % {"path": path.name, "error": exc}) from None
        if "service_request_id" not in header:
            raise ImportFileError(
                _("%(path)s: the column “service_request_id” is missing (the header is: %(header)s).")
                % {"path": path.name, "header": ",".join(header) or "—"}
            )
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue  # a blank line
                yield dict(zip(header, cells, strict=False))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ImportFileError(
                _("%(path)s, line %(line)s: %(error)s")
                % {"path": path.name, "line": reader.line_num, "error": exc}
            ) from None


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _datetime(record: Mapping[str, Any], name: str) -> datetime | None:
    text = _text(record.get(name))
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _("%(field)s: “%(value)s” is not an ISO 8601 date and time.")
            % {"field": name, "value": text[:40]}
        ) from None


def _number(record: Mapping[str, Any], name: str) -> float | None:
    value = record.get(name)
    text = _text(value)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):  # NaN or infinite
        raise ValueError(_("%(field)s: “%(value)s” is not a number.") % {"field": name, "value": text[:40]})
    return number


def _attributes(value: Any) -> dict[str, Any]:
    """The record's answers as {code: value}: Chicago's object form, or the ``extensions=true`` list of
    {code, value} (also as XML: ``<attributes><attribute><code>…``)."""
    if isinstance(value, dict) and set(value) == {"attribute"}:
        value = value["attribute"]
    if isinstance(value, dict) and not ("code" in value and "value" in value):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, dict):  # one <attribute> element
        value = [value]
    if isinstance(value, list):
        return {
            str(item["code"]): item.get("value")
            for item in value
            if isinstance(item, dict) and _text(item.get("code"))
        }
    return {}


def row_from_record(number: int, record: Mapping[str, Any]) -> ImportRow | RowError:
    """One record (a JSON object, an XML ``<request>`` as a dict, or a CSV row) as an ImportRow."""
    try:
        requested = _datetime(record, "requested_datetime")
        updated = _datetime(record, "updated_datetime")
        closed = _datetime(record, "closed_datetime")
        lat = _number(record, "lat")
        lon = _number(record, "long")
    except ValueError as exc:
        return RowError(number, str(exc))
    extended = record.get("extended_attributes")
    extended = extended if isinstance(extended, dict) else {}
    attributes = _attributes(record.get("attributes"))
    extra: dict[str, str] = {}
    for key, value in [*extended.items(), *record.items()]:
        match = _ATTRIBUTE_COLUMN.match(str(key))
        if match:  # CSV: attribute[CODE] columns, as a POST sends them
            if _text(value):
                attributes[match["code"]] = _text(value)
            continue
        if key in _TEXT_FIELDS or key in _IGNORED_FIELDS or key in ("attributes", "extended_attributes"):
            continue
        if _text(value):
            extra[str(key)[:64]] = _text(value)[:200]
    status = _text(record.get("status"))
    return ImportRow(
        record=number,
        external_id=_text(record.get("service_request_id")),
        status=status.lower(),
        status_raw=_text(record.get("status_raw")) or status,
        status_notes=_text(record.get("status_notes")),
        service_code=_text(record.get("service_code")),
        service_name=_text(record.get("service_name")),
        group=_text(record.get("category")) or _text(record.get("group")),
        description=_text(record.get("description")),
        agency=_text(record.get("agency_responsible")),
        requested_at=requested,
        updated_at=updated,
        closed_at=closed,
        address=_text(record.get("address")),
        address_id=_text(record.get("address_id")),
        zipcode=_text(record.get("zipcode")) or _text(extended.get("zip")),
        lon=lon,
        lat=lat,
        media_url=_text(record.get("media_url")),
        attributes=attributes,
        channel_raw=_text(record.get("channel")) or _text(extended.get("channel")),
        extra=extra,
    )


__all__ = [
    "FORMATS",
    "Format",
    "ImportFileError",
    "ImportRow",
    "RowError",
    "read_requests",
    "row_from_record",
]
