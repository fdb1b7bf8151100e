"""Helpers of the portal tests: a valid report form, reading a page's form values, and a case brought to
any state by the case actions (staff personas act, so their names are in the history)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from django.test import Client

from civicgrid.cases import actions
from civicgrid.cases.models import Case
from civicgrid.portal import links
from civicgrid.portal.models import TrackingLink
from tests.cases.helpers import BJT_POINT, Catalog
from tests.world import World

REPORTER_NAME = "王秀英"
REPORTER_PHONE = "13912345678"


def report_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid POST of the report form (a pin in 八角亭社区)."""
    data: dict[str, Any] = {
        "form_key": links.new_form_key(),
        "nature": "help",
        "category": "",
        "title": "路灯不亮",
        "description": "八角亭路口的路灯连续三晚不亮。",
        "lon": str(BJT_POINT[0]),
        "lat": str(BJT_POINT[1]),
        "address": "八角亭路12号",
        "jurisdiction": "",
        "reporter_name": REPORTER_NAME,
        "reporter_phone": REPORTER_PHONE,
        "website": "",
    }
    data.update(overrides)
    return data


def submit(client: Client, *, ip: str = "203.0.113.7", **overrides: Any) -> tuple[Any, dict[str, Any]]:
    """POST the report form from the address ``ip``; returns the response and what was sent."""
    data = report_data(**overrides)
    return client.post("/report/", data, REMOTE_ADDR=ip), data


def secret_from(response: Any) -> str:
    """The tracking secret from the receipt redirect."""
    assert response.status_code == 303, (response.status_code, response.content[:500])
    found = re.match(r"^/track/([A-Za-z0-9_-]+)/receipt/$", response["Location"])
    assert found, response["Location"]
    return found.group(1)


def case_of(secret: str) -> Case:
    return TrackingLink.objects.get(secret_digest=links.secret_digest(secret)).case


def value_of(html: str, name: str) -> str:
    """The value an <input> or <textarea> named ``name`` shows (what the resident typed)."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    if found:
        return unescape(found.group(1))
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(found.group(1)).strip() if found else ""


def field_error(html: str, name: str) -> str:
    """The error text shown at a field (core/field.html: <div class="field-error" id="id_<name>_error">)."""
    found = re.search(rf'id="id_{name}_error"[^>]*>(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", "", unescape(found.group(1))).strip() if found else ""


def advance_to_resolved(case: Case, world: World, catalog: Catalog) -> Case:
    """Register, dispatch, accept, reply and verify, each by the staff persona whose job it is."""
    actions.do_register(case, category=catalog.road, note="内部备注：先核对责任", actor=world.u("tx_hotline"))
    actions.do_dispatch(case, lead=world.units["430103-cg"], actor=world.u("tx_dispatcher"))
    actions.do_accept(case, note="承办人内部意见", actor=world.u("tx_cg_handler"))
    actions.do_reply(case, reply="路灯已更换灯泡，恢复照明。", actor=world.u("tx_cg_handler"))
    actions.do_verify(case, passed=True, note="核查人内部记录", actor=world.u("bjt_grid"))
    case.refresh_from_db()
    return case
