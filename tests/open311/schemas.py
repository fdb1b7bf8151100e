"""Validators for Open311 GeoReport v2 answers, written from the specification, not from the server's code.

JSON: the JSON Schemas of open311/schema-validation in ../shared/data/open311/schemas/ (services, service
definition, requests; ``requests.json`` refers to ``request.json``, hence the ``referencing`` registry), each
combined with a stricter schema of our own (the objects' exact key sets, as the specification lists them).
The methods those files do not cover (POST's answer, tokens, errors, discovery, FixMyStreet's
servicerequestupdates) have schemas here, from the specification's tables and examples.

XML: ``check_xml`` walks the document: the declaration with encoding utf-8, the root element of the method,
list items named as the specification names them (``services/service``, ``errors/error`` …), each item's
child elements (all present, no foreign ones, none twice, no attributes or namespaces), and the value rules
(datetimes with a zone, booleans ``true``/``false``, status ``open``/``closed``, the enumerations).

``same_answer`` converts the XML answer to the JSON one's shape (the specification's JSON is a mapping of the
XML) and compares the two.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml.ElementTree import fromstring
from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


class Answer(Protocol):
    """What the validators read of a response (Django's test client and plain responses alike)."""

    status_code: int
    content: bytes

    def __getitem__(self, header: str) -> str: ...


Kind = Literal[
    "discovery", "services", "service_definition", "post", "requests", "token", "errors", "updates"
]
KINDS: tuple[Kind, ...] = (
    "discovery",
    "services",
    "service_definition",
    "post",
    "requests",
    "token",
    "errors",
    "updates",
)

SCHEMA_DIR = settings.SHARED_DATA_DIR / "open311" / "schemas"
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}

# W3C datetime (https://www.w3.org/TR/NOTE-datetime) to at least the minute, with the zone the
# specification requires ("Z" or ±HH:MM).
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")

# --- The specification's element structure ---------------------------------------------------------------

ROOTS: dict[Kind, str] = {
    "discovery": "discovery",
    "services": "services",
    "service_definition": "service_definition",
    "post": "service_requests",
    "requests": "service_requests",
    "token": "service_requests",
    "errors": "errors",
    "updates": "service_request_updates",
}
# A list element → the name of its items.
LISTS = {
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
SERVICE = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
ATTRIBUTE = ("variable", "code", "datatype", "required", "datatype_description", "order", "description")
VALUE = ("key", "name")
POST_ANSWER = ("service_notice", "account_id")  # plus service_request_id or token (or neither: blackbox)
REQUEST = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
REQUEST_EXTENSIONS = ("attributes", "extended_attributes", "notes")  # extensions=true (Chicago's, FMS's)
EXTENDED_ATTRIBUTE = ("code", "value")
NOTE = ("datetime", "description", "type")
TOKEN = ("service_request_id", "token")
ERROR = ("code", "description")
DISCOVERY = ("changeset", "contact", "key_service", "endpoints")
ENDPOINT = ("specification", "url", "changeset", "type", "formats")
UPDATE = (
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
    "external_status_code",
)

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
SERVICE_TYPES = ("realtime", "batch", "blackbox")
STATUSES = ("open", "closed")
# FixMyStreet's extended statuses (peers.md §1.6), as its updates fetcher reads them (lower case).
UPDATE_STATUSES = (
    "open",
    "fixed",
    "in_progress",
    "action_scheduled",
    "investigating",
    "duplicate",
    "not_councils_responsibility",
    "no_further_action",
    "internal_referral",
    "for_triage",
    "closed",
    "cancelled",
    "reopen",
)
MIME_TYPES = ("text/xml", "application/json")
ENDPOINT_TYPES = ("production", "test")

BOOLEAN_ELEMENTS = frozenset({"metadata", "variable", "required"})
DATETIME_ELEMENTS = frozenset(
    {"requested_datetime", "updated_datetime", "expected_datetime", "changeset", "datetime"}
)
NUMBER_ELEMENTS = frozenset({"lat", "long"})


def is_w3c_datetime(value: str) -> bool:
    if not W3C_DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- JSON ---------------------------------------------------------------------------------------------------

FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(lambda v: not isinstance(v, str) or is_w3c_datetime(v))
FORMAT_CHECKER.checks("uri")(lambda v: not isinstance(v, str) or is_url(v))

_STR = {"type": "string"}
_NONEMPTY = {"type": "string", "minLength": 1}
_OPT_STR = {"type": ["string", "null"]}
_DATETIME = {"type": "string", "format": "date-time"}


def _object(keys: tuple[str, ...], required: tuple[str, ...] | None = None, **props: Any) -> dict[str, Any]:
    """An object with exactly the specification's keys (all required unless told), typed where given."""
    return {
        "type": "object",
        "required": list(keys if required is None else required),
        "propertyNames": {"enum": list(keys)},
        "properties": props,
    }


def _list_of(item: dict[str, Any], *, min_items: int = 0) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": min_items}


# Stricter companions of the shipped schemas (which list properties but allow any others).
_STRICT_SERVICES = _list_of(
    _object(
        SERVICE,
        service_code=_NONEMPTY,
        service_name=_NONEMPTY,
        metadata={"type": "boolean"},
        type={"enum": list(SERVICE_TYPES)},
    )
)
_STRICT_ATTRIBUTE = _object(
    (*ATTRIBUTE, "values"),
    required=ATTRIBUTE,
    code=_NONEMPTY,
    order={"type": "integer", "minimum": 0},
    values=_list_of(_object(VALUE, key=_NONEMPTY, name=_STR), min_items=1),
) | {
    # The list types carry their values; the others have none.
    "if": {"properties": {"datatype": {"enum": list(LIST_DATATYPES)}}},
    "then": {"required": ["values"]},
    "else": {"not": {"required": ["values"]}},
}
_STRICT_DEFINITION = _object(
    ("service_code", "attributes"), service_code=_NONEMPTY, attributes=_list_of(_STRICT_ATTRIBUTE)
)
_NOTE = _object(NOTE, datetime=_DATETIME, description=_STR, type=_NONEMPTY)


def _strict_requests(*, extensions: bool) -> dict[str, Any]:
    keys = (*REQUEST, *REQUEST_EXTENSIONS) if extensions else REQUEST
    return _list_of(
        _object(
            keys,
            service_request_id=_NONEMPTY,
            service_code=_STR,
            attributes=_list_of(_object(EXTENDED_ATTRIBUTE, code=_NONEMPTY, value=_STR)),
            extended_attributes={"type": "object"},
            notes=_list_of(_NOTE),
        )
    )


# The methods the shipped files leave out. Nullable where the specification's examples show null
# (``"account_id":null``).
LOCAL_SCHEMAS: dict[str, dict[str, Any]] = {
    "post-answer.json": _list_of(
        {
            **_object(
                ("service_request_id", "token", *POST_ANSWER),
                required=POST_ANSWER,
                service_request_id=_NONEMPTY,
                token=_NONEMPTY,
                service_notice=_OPT_STR,
                account_id=_OPT_STR,
            ),
            # "This should not be returned if token is returned" (and the other way round).
            "not": {"required": ["service_request_id", "token"]},
        },
        min_items=1,
    )
    | {"maxItems": 1},
    "token-answer.json": _list_of(_object(TOKEN, service_request_id=_NONEMPTY, token=_NONEMPTY), min_items=1)
    | {"maxItems": 1},
    "errors.json": _list_of(
        _object(ERROR, code={"type": "integer", "minimum": 100, "maximum": 599}, description=_NONEMPTY),
        min_items=1,
    ),
    "discovery.json": _object(
        DISCOVERY,
        changeset=_DATETIME,
        contact=_OPT_STR,
        key_service=_OPT_STR,
        endpoints=_list_of(
            _object(
                ENDPOINT,
                specification={"type": "string", "format": "uri"},
                url={"type": "string", "format": "uri"},
                changeset=_DATETIME,
                type={"enum": list(ENDPOINT_TYPES)},
                formats=_list_of({"enum": list(MIME_TYPES)}, min_items=1),
            ),
            min_items=1,
        ),
    ),
    "updates.json": _list_of(
        _object(
            UPDATE,
            update_id=_NONEMPTY,
            service_request_id=_NONEMPTY,
            status={"enum": list(UPDATE_STATUSES)},
            updated_datetime=_DATETIME,
            description=_STR,
            media_url={"type": ["string", "null"], "format": "uri"},
            external_status_code=_OPT_STR,
        )
    ),
}

SHIPPED = {
    "services": "services.json",
    "service_definition": "service-definition.json",
    "requests": "requests.json",
}
LOCAL = {
    "post": "post-answer.json",
    "token": "token-answer.json",
    "errors": "errors.json",
    "discovery": "discovery.json",
    "updates": "updates.json",
}


@cache
def registry() -> Registry[Any]:
    """Every schema by its file name, so the shipped ``$ref: "request.json"`` resolves."""
    resources: list[tuple[str, Resource[Any]]] = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        if path.name == "swagger.json":  # Swagger 2.0, not a JSON Schema; its definitions are the same
            continue
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    for name, contents in LOCAL_SCHEMAS.items():
        resources.append((name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(kind: Kind, *, extensions: bool = False) -> Draft202012Validator:
    if kind in SHIPPED:
        strict: dict[str, Any] = {
            "services": _STRICT_SERVICES,
            "service_definition": _STRICT_DEFINITION,
            "requests": _strict_requests(extensions=extensions),
        }[kind]
        schema: dict[str, Any] = {"allOf": [{"$ref": SHIPPED[kind]}, strict]}
    else:
        schema = {"$ref": LOCAL[kind]}
    return Draft202012Validator(schema, registry=registry(), format_checker=FORMAT_CHECKER)


def check_json(response: Answer, kind: Kind, *, extensions: bool = False) -> Any:
    """The JSON answer, checked: content type, UTF-8, the schema (every violation listed)."""
    assert response["Content-Type"] == CONTENT_TYPES["json"], response["Content-Type"]
    data = json.loads(response.content.decode("utf-8"))
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator(kind, extensions=extensions).iter_errors(data)
    ]
    assert not problems, f"{kind} JSON does not validate:\n" + "\n".join(problems[:20])
    return data


# --- XML ----------------------------------------------------------------------------------------------------

XML_DECLARATION = re.compile(rb"""^<\?xml version=["']1\.0["'] encoding=["']utf-8["']\s*\?>""", re.IGNORECASE)


class XmlProblems:
    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.found.append(f"{where}: {problem}")


def _children(
    element: Element,
    where: str,
    names: tuple[str, ...],
    *,
    required: tuple[str, ...] | None,
    problems: XmlProblems,
) -> dict[str, Element]:
    """The child elements by name: each at most once, none foreign, the required ones present."""
    found: dict[str, Element] = {}
    for child in element:
        if child.tag in found:
            problems.add(where, f"<{child.tag}> appears twice")
        elif child.tag not in names:
            problems.add(where, f"unexpected <{child.tag}>")
        found[child.tag] = child
    for name in names if required is None else required:
        if name not in found:
            problems.add(where, f"<{name}> is missing")
    return found


def _items(element: Element, where: str, problems: XmlProblems) -> list[Element]:
    item = LISTS[element.tag]
    if (element.text or "").strip():
        problems.add(where, "a list holds text")
    for child in element:
        if child.tag != item:
            problems.add(where, f"<{child.tag}> in <{element.tag}> (expected <{item}>)")
    return list(element)


def _leaf(
    element: Element | None, where: str, problems: XmlProblems, *, required: bool = False
) -> str | None:
    """A leaf's text (None: empty). Leaves hold text only."""
    if element is None:
        return None
    if len(element):
        problems.add(where, f"<{element.tag}> should hold text, not elements")
        return None
    text = element.text or ""
    if required and not text.strip():
        problems.add(where, f"<{element.tag}> is empty")
    name = element.tag
    if text == "":
        return None
    if name in BOOLEAN_ELEMENTS and text not in ("true", "false"):
        problems.add(where, f"<{name}> {text!r} is not true/false")
    if name in DATETIME_ELEMENTS and not is_w3c_datetime(text):
        problems.add(where, f"<{name}> {text!r} is not a W3C datetime with a zone")
    if name in NUMBER_ELEMENTS:
        try:
            float(text)
        except ValueError:
            problems.add(where, f"<{name}> {text!r} is not a number")
    return text


def _enum(value: str | None, allowed: tuple[str, ...], where: str, name: str, problems: XmlProblems) -> None:
    if value not in allowed:
        problems.add(where, f"<{name}> {value!r} is not one of {', '.join(allowed)}")


def _check_service(el: Element, where: str, p: XmlProblems) -> None:
    found = _children(el, where, SERVICE, required=SERVICE, problems=p)
    for name in SERVICE:
        _leaf(
            found.get(name), where, p, required=name in ("service_code", "service_name", "metadata", "type")
        )
    if "type" in found:
        _enum(found["type"].text, SERVICE_TYPES, where, "type", p)


def _check_attribute(el: Element, where: str, p: XmlProblems) -> None:
    found = _children(el, where, (*ATTRIBUTE, "values"), required=ATTRIBUTE, problems=p)
    for name in ATTRIBUTE:
        _leaf(found.get(name), where, p, required=name in ("variable", "code", "datatype", "required"))
    datatype = found["datatype"].text if "datatype" in found else None
    _enum(datatype, DATATYPES, where, "datatype", p)
    order = found["order"].text if "order" in found else None
    if order is not None and not order.isdigit():
        p.add(where, f"<order> {order!r} is not a whole number")
    if datatype in LIST_DATATYPES:
        if "values" not in found or not len(found["values"]):
            p.add(where, f"a {datatype} without <values>")
    elif "values" in found:
        p.add(where, f"a {datatype} with <values>")
    if "values" in found:
        for n, value in enumerate(_items(found["values"], f"{where}/values", p)):
            vwhere = f"{where}/values/value[{n}]"
            vfound = _children(value, vwhere, VALUE, required=VALUE, problems=p)
            _leaf(vfound.get("key"), vwhere, p, required=True)
            _leaf(vfound.get("name"), vwhere, p)


def _check_request(el: Element, where: str, p: XmlProblems, *, extensions: bool) -> None:
    names = (*REQUEST, *REQUEST_EXTENSIONS) if extensions else REQUEST
    found = _children(el, where, names, required=names, problems=p)
    for name in REQUEST:
        _leaf(
            found.get(name), where, p, required=name in ("service_request_id", "status", "requested_datetime")
        )
    _enum(found["status"].text if "status" in found else None, STATUSES, where, "status", p)
    if not extensions:
        return
    if "attributes" in found:
        for n, item in enumerate(_items(found["attributes"], f"{where}/attributes", p)):
            iwhere = f"{where}/attributes/attribute[{n}]"
            ifound = _children(item, iwhere, EXTENDED_ATTRIBUTE, required=EXTENDED_ATTRIBUTE, problems=p)
            for name in EXTENDED_ATTRIBUTE:
                _leaf(ifound.get(name), iwhere, p, required=name == "code")
    if "extended_attributes" in found:
        for child in found["extended_attributes"]:
            _leaf(child, f"{where}/extended_attributes", p)
    if "notes" in found:
        for n, item in enumerate(_items(found["notes"], f"{where}/notes", p)):
            iwhere = f"{where}/notes/note[{n}]"
            ifound = _children(item, iwhere, NOTE, required=NOTE, problems=p)
            for name in NOTE:
                _leaf(ifound.get(name), iwhere, p, required=name in ("datetime", "type"))


def _check_discovery(root: Element, p: XmlProblems) -> None:
    found = _children(root, "discovery", DISCOVERY, required=DISCOVERY, problems=p)
    for name in ("changeset", "contact", "key_service"):
        _leaf(found.get(name), "discovery", p, required=name == "changeset")
    if "endpoints" not in found:
        return
    endpoints = _items(found["endpoints"], "discovery/endpoints", p)
    if not endpoints:
        p.add("discovery/endpoints", "no <endpoint>")
    for n, endpoint in enumerate(endpoints):
        where = f"discovery/endpoints/endpoint[{n}]"
        efound = _children(endpoint, where, ENDPOINT, required=ENDPOINT, problems=p)
        for name in ("specification", "url", "changeset", "type"):
            text = _leaf(efound.get(name), where, p, required=True)
            if name in ("specification", "url") and text is not None and not is_url(text):
                p.add(where, f"<{name}> {text!r} is not an http(s) URL")
        _enum(efound["type"].text if "type" in efound else None, ENDPOINT_TYPES, where, "type", p)
        if "formats" in efound:
            formats = _items(efound["formats"], f"{where}/formats", p)
            if not formats:
                p.add(f"{where}/formats", "no <format>")
            for fmt in formats:
                _enum(_leaf(fmt, f"{where}/formats", p), MIME_TYPES, f"{where}/formats", "format", p)


def check_xml(response: Answer, kind: Kind, *, extensions: bool = False) -> Element:
    """The XML answer's root element, checked against the specification's structure (every problem listed)."""
    assert response["Content-Type"] == CONTENT_TYPES["xml"], response["Content-Type"]
    content = response.content
    content.decode("utf-8")  # UTF-8 everywhere
    assert XML_DECLARATION.match(content), f"no XML declaration with encoding utf-8: {content[:80]!r}"
    try:
        root: Element = fromstring(content)
    except ParseError as exc:
        raise AssertionError(f"not well-formed XML ({exc}): {content[:200]!r}") from exc
    p = XmlProblems()
    for element in root.iter():
        if element.attrib:
            p.add(element.tag, f"attributes {element.attrib} (the XML is schemaless and attribute-free)")
        if "{" in element.tag:
            p.add(element.tag, "a namespace")
    expected_root = ROOTS[kind]
    assert root.tag == expected_root, f"root <{root.tag}>, expected <{expected_root}>"
    if kind == "discovery":
        _check_discovery(root, p)
    elif kind == "service_definition":
        found = _children(
            root, "service_definition", ("service_code", "attributes"), required=None, problems=p
        )
        _leaf(found.get("service_code"), "service_definition", p, required=True)
        if "attributes" in found:
            for n, attribute in enumerate(_items(found["attributes"], "service_definition/attributes", p)):
                _check_attribute(attribute, f"service_definition/attributes/attribute[{n}]", p)
    else:
        items = _items(root, root.tag, p)
        if kind in ("errors", "post", "token") and len(items) < 1:
            p.add(root.tag, "no items")
        if kind in ("post", "token") and len(items) > 1:
            p.add(root.tag, "more than one item")
        for n, item in enumerate(items):
            where = f"{root.tag}/{item.tag}[{n}]"
            if kind == "services":
                _check_service(item, where, p)
            elif kind == "requests":
                _check_request(item, where, p, extensions=extensions)
            elif kind == "post":
                found = _children(
                    item,
                    where,
                    ("service_request_id", "token", *POST_ANSWER),
                    required=POST_ANSWER,
                    problems=p,
                )
                if "service_request_id" in found and "token" in found:
                    p.add(where, "both <service_request_id> and <token>")
                for name in ("service_request_id", "token"):
                    _leaf(found.get(name), where, p, required=name in found)
                for name in POST_ANSWER:
                    _leaf(found.get(name), where, p)
            elif kind == "token":
                found = _children(item, where, TOKEN, required=TOKEN, problems=p)
                for name in TOKEN:
                    _leaf(found.get(name), where, p, required=True)
            elif kind == "errors":
                found = _children(item, where, ERROR, required=ERROR, problems=p)
                code = _leaf(found.get("code"), where, p, required=True)
                if code is not None and not code.isdigit():
                    p.add(where, f"<code> {code!r} is not a number")
                _leaf(found.get("description"), where, p, required=True)
            elif kind == "updates":
                found = _children(item, where, UPDATE, required=UPDATE, problems=p)
                for name in UPDATE:
                    _leaf(
                        found.get(name),
                        where,
                        p,
                        required=name in ("update_id", "service_request_id", "status", "updated_datetime"),
                    )
                _enum(
                    found["status"].text if "status" in found else None, UPDATE_STATUSES, where, "status", p
                )
    assert not p.found, f"{kind} XML does not follow the specification:\n" + "\n".join(p.found[:20])
    return root


def check(response: Answer, fmt: str, kind: Kind, *, extensions: bool = False) -> Any:
    """Either format: the parsed JSON, or the XML answer as JSON-shaped values (see ``xml_value``). For an
    errors answer, every error's code is the HTTP status."""
    if fmt == "json":
        data = check_json(response, kind, extensions=extensions)
    else:
        data = xml_value(check_xml(response, kind, extensions=extensions))
    if kind == "errors":
        assert response.status_code >= 400, response.status_code
        assert all(str(e["code"]) == str(response.status_code) for e in data), (response.status_code, data)
    else:
        assert response.status_code == 200, (response.status_code, response.content[:500])
    return data


# --- The two formats say the same ------------------------------------------------------------------------


def xml_value(element: Element) -> Any:
    """The XML as the JSON mapping shapes it: lists for the list elements, objects for other elements with
    children, text for leaves, None for an empty element."""
    if element.tag in LISTS:
        return [xml_value(child) for child in element] or None
    if len(element):
        return {child.tag: xml_value(child) for child in element}
    return element.text or None


def as_xml_text(value: Any) -> Any:
    """A JSON value as the XML can carry it: scalars as their text (true/false, numbers as written), and
    null, "", [] and {} all as an empty element."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [as_xml_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_xml_text(v) for k, v in value.items()}
    return value


def same_answer(json_data: Any, xml_data: Any) -> None:
    """The JSON and XML answers of one call say the same thing."""
    assert as_xml_text(json_data) == as_xml_text(xml_data), (json_data, xml_data)
