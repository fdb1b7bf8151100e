"""Reading a POSTed service request into a ``Submission``: the service, the place, the extra questions and
the reporter's contact, with every problem named by its argument (the view answers 400 with the list)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.http import QueryDict
from django.utils.translation import gettext as _

from civicgrid.accounts.actions import check_phone
from civicgrid.grids.lookup import locate_grid_cell
from civicgrid.grids.models import Building
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.open311 import catalogue
from civicgrid.open311.actions import Submission
from civicgrid.open311.models import LIST_DATATYPES, ApiKey, Datatype, Endpoint, ServiceAttribute
from civicgrid.open311.params import Open311Error, bad, moment, number, optional, text

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
# A tag (<b>, </p>, <img src=…>), a comment or a declaration — not "a < b & c > d" in plain text.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(\s[^<>]*)?/?>|<!--|<!\[CDATA\[|<![A-Za-z]")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
TITLE_LENGTH = 40
_is_url = URLValidator(schemes=["http", "https"])


def read_submission(data: QueryDict, endpoint: Endpoint, key: ApiKey) -> Submission:
    code = optional(data, "service_code")
    if code is None:
        raise Open311Error(400, bad("service_code", _("This argument is required.")))
    service = catalogue.service_for_code(code)
    if service is None:
        raise Open311Error(404, bad("service_code", _("No service has this code.")))
    errors: list[str] = []
    lat = number(data, "lat", low=-90, high=90, errors=errors)
    lon = number(data, "long", low=-180, high=180, errors=errors)
    address = text(data, "address_string", max_length=200, errors=errors)
    address_id = text(data, "address_id", max_length=64, errors=errors)
    description = text(data, "description", max_length=4000, errors=errors)
    if _TAG.search(description):
        errors.append(bad("description", _("Send plain text, without HTML.")))
    first_name = text(data, "first_name", max_length=32, errors=errors)
    last_name = text(data, "last_name", max_length=32, errors=errors)
    phone = text(data, "phone", max_length=20, errors=errors)
    if phone:
        try:
            phone = check_phone(phone)
        except ValidationError:
            errors.append(
                bad("phone", _("Enter an 11-digit mobile number or a landline with its area code."))
            )
    email = text(data, "email", max_length=254, errors=errors)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(bad("email", _("Enter a valid email address.")))
    device_id = text(data, "device_id", max_length=100, errors=errors)
    account_id = text(data, "account_id", max_length=100, errors=errors)
    zipcode = text(data, "zipcode", max_length=16, errors=errors)
    media_url = text(data, "media_url", max_length=1000, errors=errors)
    if media_url:
        try:
            _is_url(media_url)
        except ValidationError:
            errors.append(bad("media_url", _("Enter an http or https address.")))
    answers = read_answers(data, catalogue.attributes_of(service.category), errors)
    if (lat is None) != (lon is None) and not any(e.startswith(("lat:", "long:")) for e in errors):
        errors.append(bad("lat" if lat is None else "long", _("Give both lat and long.")))
    building = None
    if address_id:
        building = _building(endpoint, address_id)
        if building is None:
            errors.append(bad("address_id", _("No address with this id is known in this jurisdiction.")))
    if lat is None and lon is None and not address and not address_id and not errors:
        errors.append(bad("lat", _("Give the location: lat and long, address_string or address_id.")))
    place = endpoint.jurisdiction
    if lat is not None and lon is not None:
        refusal = _outside(endpoint, lon, lat)
        if refusal:
            errors.append(bad("lat", refusal))
    if errors:
        raise Open311Error(400, *errors)
    if building is not None:
        if lat is None and building.lon is not None and building.lat is not None:
            lon, lat = building.lon, building.lat
        address = address or building.address or building.name
        place = building.grid_cell.community
    elif address:
        place = _place_for_address(endpoint, address) or place
    name = _full_name(first_name, last_name)
    return Submission(
        endpoint=endpoint,
        api_key=key,
        category=service.category,
        title=_title(description) or service.category.name,
        description=description or service.path_names,
        lon=lon,
        lat=lat,
        place=place,
        address=address,
        address_id=address_id,
        zipcode=zipcode,
        reporter_name=name,
        phone=phone,
        email=email,
        device_id=device_id,
        account_id=account_id,
        media_url=media_url,
        answers=answers,
        service_type=service.service_type,
        service_notice=service.notice,
    )


def read_answers(
    data: QueryDict, attributes: list[ServiceAttribute], errors: list[str]
) -> dict[str, str | list[str]]:
    """``attribute[code]=v`` (``attribute[code][]=v`` repeated for a multivaluelist), checked against the
    service definition. Codes the definition does not have are ignored: some clients (FixMyStreet among
    them) send their own extras to every server."""
    given: dict[str, list[str]] = {}
    for name, values in data.lists():
        match = _ATTRIBUTE.match(name)
        if match:
            given.setdefault(match.group(1), []).extend(v.strip() for v in values if v.strip())
    answers: dict[str, str | list[str]] = {}
    for attribute in attributes:
        if not attribute.variable:
            continue
        argument = f"attribute[{attribute.code}]"
        values = given.get(attribute.code, [])
        if not values:
            if attribute.required:
                errors.append(
                    bad(argument, _("This question must be answered: %(q)s") % {"q": attribute.description})
                )
            continue
        keys = {v.key for v in attribute.values.all()}
        if attribute.datatype in LIST_DATATYPES:
            unknown = [v for v in values if v not in keys]
            if unknown:
                errors.append(
                    bad(argument, _("Not one of the listed values: %(v)s") % {"v": ", ".join(unknown)[:200]})
                )
                continue
            if attribute.datatype == Datatype.SINGLEVALUELIST:
                if len(set(values)) > 1:
                    errors.append(bad(argument, _("Choose one value.")))
                    continue
                answers[attribute.code] = values[0]
            else:
                answers[attribute.code] = list(dict.fromkeys(values))
            continue
        value = values[-1]
        limit = 4000 if attribute.datatype == Datatype.TEXT else 200
        if len(value) > limit or any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            errors.append(bad(argument, _("At most %(n)s characters of plain text.") % {"n": limit}))
            continue
        if attribute.datatype == Datatype.NUMBER:
            try:
                parsed = float(value)
            except ValueError:
                parsed = float("nan")
            if parsed != parsed or parsed in (float("inf"), float("-inf")):
                errors.append(bad(argument, _("Enter a number.")))
                continue
        elif attribute.datatype == Datatype.DATETIME:
            try:
                value = moment(value, argument).isoformat()
            except Open311Error as exc:
                errors.extend(exc.descriptions)
                continue
        answers[attribute.code] = value
    return answers


def _title(description: str) -> str:
    for part in _SENTENCE_END.split(description):
        part = part.strip()
        if part:
            return part[:TITLE_LENGTH]
    return ""


def _full_name(first: str, last: str) -> str:
    # Chinese names run family name first with no space (张 + 三 = 张三); others "first last".
    if not first or not last:
        return first or last
    if all(ord(c) > 0x2E80 for c in first + last):
        return f"{last}{first}"
    return f"{first} {last}"


def _building(endpoint: Endpoint, code: str) -> Building | None:
    return (
        Building.objects.select_related("grid_cell__community")
        .filter(code=code, grid_cell__community__path__startswith=endpoint.jurisdiction.path)
        .first()
    )


def _outside(endpoint: Endpoint, lon: float, lat: float) -> str | None:
    """Why the point cannot be taken in here (None: it can)."""
    cell = locate_grid_cell(lon, lat)
    where = endpoint.jurisdiction
    if cell is not None:
        if cell.community.path.startswith(where.path):
            return None
        return _("The location lies outside %(place)s.") % {"place": where.name}
    box = (where.min_lon, where.min_lat, where.max_lon, where.max_lat)
    if None not in box and not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):  # type: ignore[operator]
        return _("The location lies outside %(place)s.") % {"place": where.name}
    return None


def _place_for_address(endpoint: Endpoint, address: str) -> Jurisdiction | None:
    """The deepest place in the endpoint's area whose name the address mentions (“坡子街街道 …”)."""
    found: Jurisdiction | None = None
    for place in Jurisdiction.objects.filter(
        path__startswith=endpoint.jurisdiction.path, is_active=True
    ).only("code", "name", "path", "level"):
        deeper = found is None or len(place.path) > len(found.path)
        if len(place.name) >= 2 and place.name in address and deeper:
            found = place
    return found
