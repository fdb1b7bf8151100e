"""Schemes are data: an administrator creates and changes one in the admin (no code), the admin saves through
the actions (so the change log is kept and the rules hold), errors are shown at their fields, and each
administrator sees only the schemes of their own subtree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from civicgrid.assessment.models import AssessmentScheme, SchemeEvent
from tests.world import World

ADD = "/admin/assessment/assessmentscheme/add/"


def form(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "tx-units",
        "name": "天心区职能部门月度考核",
        "description": "",
        "is_active": "on",
        "jurisdiction": world.j("430103").pk,
        "subject": "unit",
        "area_level": "",
        "period": "month",
        "min_due": "5",
        "basically_satisfied_weight": "0.8",
        "partly_solved_weight": "0.5",
        "grouping": "",
        "red_count": "5",
        "black_count": "5",
        "floor_to_black": "on",
        "indicators-TOTAL_FORMS": "3",
        "indicators-INITIAL_FORMS": "0",
        "indicators-MIN_NUM_FORMS": "0",
        "indicators-MAX_NUM_FORMS": "1000",
    }
    rows = [
        ("response_rate", "30", "100", ""),
        ("resolution_rate", "35", "100", ""),
        ("satisfaction_rate", "35", "95", "80"),
    ]
    for k, (rate, weight, target, floor) in enumerate(rows):
        data |= {
            f"indicators-{k}-order": str(k),
            f"indicators-{k}-rate": rate,
            f"indicators-{k}-weight": weight,
            f"indicators-{k}-target": target,
            f"indicators-{k}-floor": floor,
        }
    data.update(overrides)
    return data


def test_an_administrator_creates_a_scheme_with_its_indicators(
    world: World, client_for: Callable[[str], Client]
) -> None:
    client = client_for("tx_admin")
    response = client.post(ADD, form(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    scheme = AssessmentScheme.objects.get(code="tx-units")
    assert [(i.rate, int(i.weight)) for i in scheme.indicators.all()] == [
        ("response_rate", 30),
        ("resolution_rate", 35),
        ("satisfaction_rate", 35),
    ]
    assert str(scheme.basically_satisfied_weight) == "0.800"
    codes = list(SchemeEvent.objects.filter(scheme=scheme).values_list("code", "actor__username"))
    assert codes == [("scheme.saved", "tx_admin")] + [("indicator.saved", "tx_admin")] * 3
    # The change list shows it to 天心区's administrator, not to 雨花区's.
    assert "天心区职能部门月度考核" in client.get("/admin/assessment/assessmentscheme/").content.decode()
    other = client_for("yh_admin").get("/admin/assessment/assessmentscheme/").content.decode()
    assert "天心区职能部门月度考核" not in other
    assert (
        client_for("yh_admin").get(f"/admin/assessment/assessmentscheme/{scheme.pk}/change/").status_code
        == 302
    )


def test_errors_are_shown_at_their_fields_and_nothing_is_saved(
    world: World, client_for: Callable[[str], Client]
) -> None:
    client = client_for("tx_admin")
    response = client.post(
        ADD,
        form(world, subject="area", area_level="", **{"indicators-2-floor": "99"}),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "请选择被考核区域的层级。" in html
    assert "底线不能高于目标值。" in html
    assert not AssessmentScheme.objects.exists()
    # Another district is not offered, and is refused if sent anyway.
    response = client.post(ADD, form(world, jurisdiction=world.j("430111").pk))
    assert response.status_code == 200
    assert not AssessmentScheme.objects.exists()
