"""A request posted through Open311 lives the same life as any other: dispatched and closed by staff through
the staff API, and a client following it sees each change through GET requests and servicerequestupdates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client

from civicgrid.cases.models import Case, Channel
from civicgrid.lib import clock
from tests.open311.conftest import O311, body

SHANGHAI = ZoneInfo("Asia/Shanghai")


def act(client: Client, number: str, action: str, payload: dict[str, Any]) -> Any:
    response = client.post(
        f"/api/v1/cases/{number}/actions/{action}", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 200, (action, response.content)
    return response.json()


def test_posted_request_followed_through_dispatch_and_closure(
    o311: O311, client_for: Callable[[str], Client]
) -> None:
    start = clock.now()
    with clock.frozen(start):
        posted = o311.post_light(first_name="三", last_name="张", phone="13812345678")
    assert posted.status_code == 200, posted.content
    number = body(posted)[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.channel == Channel.OPEN311
    assert case.grid_cell is not None
    assert case.grid_cell.code == "430103002001001"
    assert case.reporter_name == "张三"

    def seen() -> dict[str, Any]:
        [request] = body(o311.get(f"requests/{number}"))
        return dict(request)

    def updates() -> list[dict[str, Any]]:
        found = body(o311.get("servicerequestupdates", start_date=(start - timedelta(days=1)).isoformat()))
        return [u for u in found if u["service_request_id"] == number]

    first = seen()
    assert first["status"] == "open"
    assert first["status_notes"] is None
    assert first["agency_responsible"] is None
    assert [u["external_status_code"] for u in updates()] == ["received"]

    # Staff move the case along through the staff API, each step a little later.
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("tx_hotline", "register", {"category": "010102"}),
        ("tx_dispatcher", "dispatch", {"lead_unit": "430103-cg"}),
        ("tx_cg_handler", "accept", {}),
        ("tx_cg_handler", "reply", {"reply": "已更换灯泡，路灯恢复正常。"}),
        ("tx_supervisor", "verify", {"passed": True}),
    ]
    previous = first["updated_datetime"]
    for n, (persona, action, payload) in enumerate(steps, start=1):
        with clock.frozen(start + timedelta(hours=n)):
            act(client_for(persona), number, action, payload)
        now = seen()
        assert now["updated_datetime"] > previous, action  # same zone, so the text orders like the instant
        previous = now["updated_datetime"]
        if action == "dispatch":
            assert now["agency_responsible"] == "天心区城市管理和综合执法局"
            assert now["status"] == "open"
            assert now["expected_datetime"] is not None

    done = seen()
    assert done["status"] == "closed"
    assert done["status_notes"] == "已更换灯泡，路灯恢复正常。"
    assert done["updated_datetime"] == (start + timedelta(hours=5)).astimezone(SHANGHAI).isoformat(
        timespec="seconds"
    )

    feed = updates()
    assert [u["external_status_code"] for u in feed] == [
        "received",
        "registered",
        "dispatched",
        "handling",
        "replied",
        "resolved",
    ]
    assert [u["status"] for u in feed][-1] == "fixed"  # FixMyStreet's word for a verified fix
    assert feed[-2]["description"] == "已更换灯泡，路灯恢复正常。"  # the reply itself
    assert len({u["update_id"] for u in feed}) == len(feed)
    # A subscriber polling since its last update sees only what came after.
    later = body(
        o311.get(
            "servicerequestupdates",
            start_date=(start + timedelta(hours=3, minutes=30)).isoformat(),
            end_date=(start + timedelta(days=1)).isoformat(),
        )
    )
    assert [u["external_status_code"] for u in later if u["service_request_id"] == number] == [
        "replied",
        "resolved",
    ]
    # Status filters follow the lifecycle.
    closed = body(o311.get("requests", status="closed", start_date=(start - timedelta(days=1)).isoformat()))
    assert number in [r["service_request_id"] for r in closed]
    still_open = body(o311.get("requests", status="open", start_date=(start - timedelta(days=1)).isoformat()))
    assert number not in [r["service_request_id"] for r in still_open]
