"""Error wording shared by the JSON API and the web pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


# The request's own schema errors (pydantic), told with Django's already-translated form messages where one
# fits, so a Chinese user reads Chinese without a message catalogue of pydantic's wording.
def pydantic_reason(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Enter a whole number.")
    if kind.startswith(("float_", "decimal_")):
        return _("Enter a number.")
    if kind in {"enum", "literal_error"}:
        return _("Select a valid choice. That choice is not one of the available choices.")
    if kind.startswith("datetime_"):
        return _("Enter a valid date/time.")
    if kind.startswith("date_"):
        return _("Enter a valid date.")
    if kind == "less_than_equal":
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("le")
        }
    if kind == "greater_than_equal":
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("ge")
        }
    if kind == "string_too_long":
        n = int(ctx.get("max_length", 0))
        return ngettext("At most %(n)s character.", "At most %(n)s characters.", n) % {"n": n}
    if kind == "list_type":
        return _("Enter a list of values.")
    if kind == "json_invalid":
        return _("Enter a valid JSON.")
    return _("Enter a valid value.")
