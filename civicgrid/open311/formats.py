"""The two formats of GeoReport v2: XML (required by the specification) and JSON (its "Spark" mapping of
the XML). Every answer is first built as plain Python values, then rendered by one of these two functions,
so the two formats cannot drift apart.

XML: a root element named after the resource; a list's items are named by ``ITEM_NAMES`` (``services`` →
``service``); ``None`` is an empty element, booleans are ``true``/``false``. Characters XML 1.0 cannot hold
(control characters in imported text) are dropped rather than producing a document no client can parse.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TypeAlias

from django.http import HttpResponse
from django.utils.timezone import get_default_timezone

Value: TypeAlias = "str | int | float | bool | list[Value] | dict[str, Value] | None"

FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
MIME_TYPES = ("text/xml", "application/json")  # as service discovery lists them

ITEM_NAMES = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "service_request_updates": "request_update",
}

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# (In _scalar) a literal CR would reach the client as LF (XML parsers normalise line ends): as a reference
# it stays a CR, so the XML says what the JSON says (form posts send CRLF).


def w3c_datetime(value: datetime | None) -> str | None:
    """W3C/ISO 8601 with the zone, to the second, in the server's local time (``2026-11-24T10:00:00+08:00``)."""
    if value is None:
        return None
    # get_default_timezone is cached (and reset when a test changes TIME_ZONE): a thousand rows ask 3,000 times.
    return value.astimezone(get_default_timezone()).isoformat(timespec="seconds")


def clean_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _scalar(value: str | int | float | bool) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    # Chained replaces: each is a C loop that costs next to nothing when the character is absent (most
    # text), where one translate() with a mapping visits every character in Python objects.
    text = str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _element(name: str, value: Value, out: list[str]) -> None:
    if value is None or value == "" or value == [] or value == {}:
        out.append(f"<{name}/>")
    elif isinstance(value, list):
        item = ITEM_NAMES.get(name, "item")
        out.append(f"<{name}>")
        for member in value:
            _element(item, member, out)
        out.append(f"</{name}>")
    elif isinstance(value, dict):
        out.append(f"<{name}>")
        for key, member in value.items():
            _element(key, member, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(value)}</{name}>")


def to_xml(root: str, body: Value) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n']
    _element(root, body, out)
    # One pass over the whole document drops what XML 1.0 cannot hold (the markup itself never has any).
    return clean_text("".join(out))


def _json_clean(value: Value) -> Value:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_json_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    return value


# What json.dumps writes for a character XML cannot hold: a \u00XX escape below 0x20 (newline, tab and
# carriage return have their own short escapes), \b or \f, a lone surrogate, U+FFFE or U+FFFF. A false
# alarm (an escaped backslash before a b) only sends the answer down the slow path.
_SUSPECT = ("\\u00", "\\b", "\\f", "\ufffe", "\uffff")


def to_json(body: Value) -> str:
    # Control characters are valid in JSON strings, but clients decode both formats from the same data:
    # what XML cannot carry is dropped from JSON too, so the two answers say the same. Nearly every answer
    # has none, so the text is checked once after dumping rather than every string before.
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if any(mark in text for mark in _SUSPECT) or not _encodes(text):
        text = json.dumps(_json_clean(body), ensure_ascii=False, separators=(",", ":"))
    return text


def _encodes(text: str) -> bool:
    """False when the text holds a lone surrogate (UTF-8 cannot carry it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def render(fmt: str, root: str, body: Value, *, status: int = 200) -> HttpResponse:
    text = to_xml(root, body) if fmt == "xml" else to_json(body)
    return HttpResponse(text.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def error_body(status: int, descriptions: list[str]) -> list[Value]:
    return [{"code": status, "description": d} for d in descriptions]
