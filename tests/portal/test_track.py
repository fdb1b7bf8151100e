"""Following a request by its secret link: the status and timeline in plain words (no staff names, no
internal notes), the reply, the resident's rating and the request to reopen, decided by the supervisor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Case, Revisit
from civicgrid.lib import clock
from civicgrid.notifications.models import Notification
from civicgrid.portal.actions import do_decide_reopen_request, do_request_reopen
from civicgrid.portal.models import PortalPolicy, ReopenRequest, ReopenStatus
from civicgrid.portal.queries import pending_reopen_requests
from tests.cases.helpers import Catalog
from tests.portal.helpers import (
    REPORTER_NAME,
    REPORTER_PHONE,
    advance_to_resolved,
    case_of,
    field_error,
    secret_from,
    submit,
    value_of,
)
from tests.world import World

INTERNAL = (
    "内部备注",
    "承办人内部意见",
    "核查人内部记录",
    "tx_hotline",
    "tx_dispatcher",
    "tx_cg_handler",
    "bjt_grid",
)


def _submitted(client: Client) -> tuple[str, Case]:
    response, _data = submit(client)
    secret = secret_from(response)
    return secret, case_of(secret)


def _rated(client: Client, secret: str, **data: str) -> object:
    return client.post(f"/track/{secret}/rate/", data)


def test_a_wrong_secret_is_not_found(policy: PortalPolicy) -> None:
    client = Client()
    secret, _case = _submitted(client)
    for bad in ("x" * 32, secret[:-1] + ("A" if secret[-1] != "A" else "B"), "short", "../../etc"):
        for suffix in ("", "receipt/"):
            assert client.get(f"/track/{bad}/{suffix}").status_code == 404, (bad, suffix)
        assert client.post(f"/track/{bad}/rate/", {}).status_code == 404
        assert client.post(f"/track/{bad}/reopen/", {"reason": "x"}).status_code == 404


def test_the_track_lookup_accepts_the_link_or_its_code(policy: PortalPolicy) -> None:
    client = Client()
    secret, _case = _submitted(client)
    assert client.get("/track/").status_code == 200
    for pasted in (f"http://testserver/track/{secret}/", f"/track/{secret}/receipt/", f"  {secret} "):
        response = client.get("/track/", {"link": pasted})
        assert response.status_code == 303, pasted
        assert response["Location"] == f"/track/{secret}/", pasted
    response = client.get("/track/", {"link": "http://testserver/track/nonsense-nonsense-nonsense/"})
    assert response.status_code == 422
    html = response.content.decode()
    assert field_error(html, "link")
    assert value_of(html, "link").endswith("nonsense-nonsense-nonsense/")


def test_the_timeline_speaks_plainly_and_hides_staff(
    policy: PortalPolicy, world: World, catalog: Catalog
) -> None:
    client = Client()
    secret, case = _submitted(client)
    html = client.get(f"/track/{secret}/").content.decode()
    assert "已收到" in html
    assert "我们已收到您的诉求" in html
    assert 'id="expected-reply"' in html

    advance_to_resolved(case, world, catalog)
    html = client.get(f"/track/{secret}/").content.decode()
    assert "天心区城市管理和综合执法局" in html  # unit names are public
    assert "路灯已更换灯泡，恢复照明。" in html  # the reply
    for text in (*INTERNAL, REPORTER_NAME, REPORTER_PHONE, REPORTER_PHONE[-4:] + "<"):
        assert text not in html, text
    assert 'id="rate-form"' in html


def test_the_reply_is_shown_only_once_given(policy: PortalPolicy, world: World, catalog: Catalog) -> None:
    client = Client()
    secret, case = _submitted(client)
    case_actions.do_register(case, category=catalog.road, actor=None)
    case_actions.do_dispatch(case, lead=world.units["430103-cg"], actor=None)
    html = client.get(f"/track/{secret}/").content.decode()
    assert 'id="reply"' not in html
    assert 'id="rate-form"' not in html


def test_the_resident_rates_a_resolved_case(policy: PortalPolicy, world: World, catalog: Catalog) -> None:
    client = Client()
    secret, case = _submitted(client)
    advance_to_resolved(case, world, catalog)
    response = _rated(client, secret, resolution="resolved", satisfaction="satisfied", comment="")
    assert response.status_code == 303  # type: ignore[attr-defined]
    case.refresh_from_db()
    assert case.status == "revisited"
    revisit = Revisit.objects.get(case=case)
    assert (revisit.channel, revisit.resolution, revisit.satisfaction, revisit.by) == (
        "web",
        "resolved",
        "satisfied",
        None,
    )
    html = client.get(f"/track/{secret}/").content.decode()
    assert 'id="rate-form"' not in html
    assert 'id="reopen-form"' not in html
    assert "12345" in html  # solved and satisfied: no reopening offered, the hotline is
    # Rating twice is refused without a change.
    response = _rated(client, secret, resolution="unresolved", satisfaction="unsatisfied", comment="again")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert Revisit.objects.filter(case=case).count() == 1


def test_not_satisfied_needs_a_comment_at_the_field(
    policy: PortalPolicy, world: World, catalog: Catalog
) -> None:
    client = Client()
    secret, case = _submitted(client)
    advance_to_resolved(case, world, catalog)
    response = client.post(f"/track/{secret}/rate/", {"resolution": "partly", "satisfaction": "unsatisfied"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "不满意的原因" in field_error(html, "comment")
    assert 'value="partly" checked' in html.replace('checked=""', "checked") or 'value="partly"' in html
    assert Revisit.objects.count() == 0
    response = client.post(f"/track/{secret}/rate/", {"satisfaction": "satisfied"})
    assert response.status_code == 422
    assert field_error(response.content.decode(), "resolution")
    response = client.post(f"/track/{secret}/rate/", {"resolution": "x", "satisfaction": "not_rated"})
    assert response.status_code == 422
    assert Revisit.objects.count() == 0


def test_rating_before_the_work_is_done_is_refused(policy: PortalPolicy) -> None:
    client = Client()
    secret, case = _submitted(client)
    assert client.get(f"/track/{secret}/rate/").status_code == 405
    response = _rated(client, secret, resolution="resolved", satisfaction="satisfied")
    assert response.status_code == 422  # type: ignore[attr-defined]
    case.refresh_from_db()
    assert case.status == "received"


def test_unsatisfied_then_reopen_then_the_supervisor_decides(
    policy: PortalPolicy, world: World, catalog: Catalog
) -> None:
    client = Client()
    secret, case = _submitted(client)
    advance_to_resolved(case, world, catalog)
    _rated(client, secret, resolution="unresolved", satisfaction="unsatisfied", comment="灯还是不亮")
    html = client.get(f"/track/{secret}/").content.decode()
    assert 'id="reopen-form"' in html
    assert client.get(f"/track/{secret}/reopen/").status_code == 405

    response = client.post(f"/track/{secret}/reopen/", {"reason": ""})
    assert response.status_code == 422
    assert field_error(response.content.decode(), "reason")
    response = client.post(f"/track/{secret}/reopen/", {"reason": "晚上还是黑的"})
    assert response.status_code == 303
    request = ReopenRequest.objects.get(case=case)
    assert request.status == ReopenStatus.PENDING
    assert list(pending_reopen_requests(case)) == [request]
    html = client.get(f"/track/{secret}/").content.decode()
    assert 'id="reopen-state"' in html
    assert 'id="reopen-form"' not in html
    # A second request while one waits is refused at the field.
    with pytest.raises(ValidationError) as exc:
        do_request_reopen(case, reason="再次申请", actor=None)
    assert "reason" in exc.value.message_dict

    # Someone in another district may neither accept nor decline it.
    for accept in (True, False):
        with pytest.raises(PermissionDenied):
            do_decide_reopen_request(request, accept=accept, note="不行", actor=world.u("yh_dispatcher"))
    request.refresh_from_db()
    assert request.status == ReopenStatus.PENDING

    do_decide_reopen_request(request, accept=True, actor=world.u("tx_supervisor"))
    request.refresh_from_db()
    case.refresh_from_db()
    assert request.status == ReopenStatus.ACCEPTED
    assert request.decided_by == world.u("tx_supervisor")
    assert case.status == "handling"
    assert case.reopen_count == 1
    assert not pending_reopen_requests(case).exists()
    html = client.get(f"/track/{secret}/").content.decode()
    assert "重新办理" in html
    with pytest.raises(ValidationError):
        do_decide_reopen_request(request, accept=False, note="晚了", actor=world.u("tx_supervisor"))


def test_declining_needs_a_note_that_the_resident_reads(
    policy: PortalPolicy, world: World, catalog: Catalog
) -> None:
    client = Client()
    secret, case = _submitted(client)
    advance_to_resolved(case, world, catalog)
    _rated(client, secret, resolution="unresolved", satisfaction="unsatisfied", comment="没修好")
    client.post(f"/track/{secret}/reopen/", {"reason": "还是坏的"})
    request = ReopenRequest.objects.get(case=case)
    with pytest.raises(ValidationError) as exc:
        do_decide_reopen_request(request, accept=False, note=" ", actor=world.u("tx_supervisor"))
    assert "note" in exc.value.message_dict
    do_decide_reopen_request(
        request, accept=False, note="已另行答复：属于供电公司维修范围。", actor=world.u("tx_supervisor")
    )
    sms = Notification.objects.get(kind="case.reopen_decided")
    assert sms.channel == "sms"
    assert "已另行答复" in sms.body
    html = client.get(f"/track/{secret}/").content.decode()
    assert "已另行答复：属于供电公司维修范围。" in html
    assert "tx_supervisor" not in html
    case.refresh_from_db()
    assert case.status == "revisited"


def test_reopening_closes_after_the_window(policy: PortalPolicy, world: World, catalog: Catalog) -> None:
    client = Client()
    secret, case = _submitted(client)
    advance_to_resolved(case, world, catalog)
    _rated(client, secret, resolution="unresolved", satisfaction="unsatisfied", comment="没修好")
    later = clock.now() + timedelta(days=policy.reopen_window_days, hours=1)
    with clock.frozen(later):
        html = client.get(f"/track/{secret}/").content.decode()
        assert 'id="reopen-form"' not in html
        response = client.post(f"/track/{secret}/reopen/", {"reason": "还是坏的"})
    assert response.status_code == 422
    assert "已过" in field_error(response.content.decode(), "reason")
    assert not ReopenRequest.objects.exists()


def test_a_phone_revisit_that_was_satisfied_offers_no_reopening(
    policy: PortalPolicy, world: World, catalog: Catalog
) -> None:
    client = Client()
    secret, case = _submitted(client)
    advance_to_resolved(case, world, catalog)
    case_actions.do_revisit(
        case, channel="phone", resolution="resolved", satisfaction="satisfied", actor=world.u("tx_hotline")
    )
    response = client.post(f"/track/{secret}/reopen/", {"reason": "又坏了"})
    assert response.status_code == 422
    assert "12345" in field_error(response.content.decode(), "reason")
    html = client.get(f"/track/{secret}/").content.decode()
    assert "tx_hotline" not in html
    assert "满意" in html
