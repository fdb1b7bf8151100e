"""No client reaches another jurisdiction's data: every method × every key (none, this endpoint's, the
other endpoint's, revoked) × a request of each district. Reads show only the endpoint's own subtree; a key
works only at its own endpoint; a POST needs a valid key of that endpoint."""

from __future__ import annotations

import pytest

from civicgrid.open311 import actions
from civicgrid.open311.models import ApiKey, ServiceRequest
from tests.open311.conftest import BJT_POINT, O311, YH_POINT, body

KEYS = ["none", "own", "other", "revoked"]
ENDPOINTS = ["430103", "430111"]


def _setup(o311: O311) -> dict[str, str]:
    """One request in each district (posted with its own endpoint's key) and a revoked 天心区 key."""
    tx = body(o311.post_light())[0]["service_request_id"]
    yh = body(
        o311.post_light(
            jurisdiction_id="430111", api_key=o311.yh_key, lat=str(YH_POINT[1]), long=str(YH_POINT[0])
        )
    )[0]["service_request_id"]
    revoked, secret = actions.do_issue_api_key(o311.tx, name="old", actor=None)
    actions.do_revoke_api_key(revoked, actor=None)
    return {"430103": tx, "430111": yh, "revoked": secret}


def _key(o311: O311, which: str, endpoint: str, made: dict[str, str]) -> str | None:
    own = o311.key if endpoint == "430103" else o311.yh_key
    other = o311.yh_key if endpoint == "430103" else o311.key
    return {"none": None, "own": own, "other": other, "revoked": made["revoked"]}[which]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("which", KEYS)
def test_reads_stay_in_the_endpoints_subtree(o311: O311, endpoint: str, which: str) -> None:
    made = _setup(o311)
    key = _key(o311, which, endpoint, made)
    valid = which in ("none", "own")
    other = "430111" if endpoint == "430103" else "430103"
    for path in ("requests", "services", "servicerequestupdates", f"requests/{made[endpoint]}"):
        response = o311.get(path, jurisdiction_id=endpoint, api_key=key)
        assert response.status_code == (200 if valid else 403), (path, response.content)
    if not valid:
        return
    listed = [
        r["service_request_id"] for r in body(o311.get("requests", jurisdiction_id=endpoint, api_key=key))
    ]
    assert listed == [made[endpoint]]
    feed = {
        u["service_request_id"]
        for u in body(o311.get("servicerequestupdates", jurisdiction_id=endpoint, api_key=key))
    }
    assert feed == {made[endpoint]}
    # The other district's request, asked for by id through this endpoint, does not exist here.
    assert o311.get(f"requests/{made[other]}", jurisdiction_id=endpoint, api_key=key).status_code == 404
    by_ids = o311.get(
        "requests",
        jurisdiction_id=endpoint,
        api_key=key,
        service_request_id=f"{made['430103']},{made['430111']}",
    )
    assert [r["service_request_id"] for r in body(by_ids)] == [made[endpoint]]
    token = o311.tx if other == "430103" else o311.yh
    foreign = ServiceRequest.objects.filter(endpoint=token).values_list("token", flat=True).first()
    assert o311.get(f"tokens/{foreign}", jurisdiction_id=endpoint, api_key=key).status_code == 404


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("which", KEYS)
def test_posts_need_a_valid_key_of_the_endpoint(o311: O311, endpoint: str, which: str) -> None:
    made = _setup(o311)
    key = _key(o311, which, endpoint, made)
    point = BJT_POINT if endpoint == "430103" else YH_POINT
    before = ApiKey.objects.count(), ServiceRequest.objects.count()
    response = o311.post_light(jurisdiction_id=endpoint, api_key=key, lat=str(point[1]), long=str(point[0]))
    assert response.status_code == (200 if which == "own" else 403), response.content
    created = ServiceRequest.objects.count() - before[1]
    assert created == (1 if which == "own" else 0)
    if which == "own":
        # …and a point in the other district is refused even with the right key.
        elsewhere = YH_POINT if endpoint == "430103" else BJT_POINT
        refused = o311.post_light(
            jurisdiction_id=endpoint, api_key=key, lat=str(elsewhere[1]), long=str(elsewhere[0])
        )
        assert refused.status_code == 400
