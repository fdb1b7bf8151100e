"""Tampering with what the desk form sends: values outside the operator's scope are refused at their field
(or as a 404 for a URL), and nothing is written. (Separate from test_permissions.py, whose module-wide
world would clash with the fresh world these tests build.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from civicgrid.cases.models import Case
from civicgrid.hotline.models import AnswerUse, KnowledgeEntry
from tests.cases.helpers import BJT_POINT, YH_POINT, new_case
from tests.hotline.helpers import call_data, knowledge_base
from tests.world import World


@pytest.fixture
def operator(client_for: Callable[[str], Client]) -> Client:
    return client_for("tx_hotline")


def test_a_jurisdiction_of_another_district_is_refused_at_the_field(operator: Client) -> None:
    response = operator.post("/hotline/", call_data(jurisdiction="430111001001"))
    assert response.status_code == 422
    assert 'id="id_jurisdiction_error"' in response.content.decode()
    assert not Case.objects.exists()


def test_a_point_in_another_district_is_refused_at_the_field(operator: Client) -> None:
    lon, lat = YH_POINT
    response = operator.post("/hotline/", call_data(jurisdiction="", lon=str(lon), lat=str(lat)))
    assert response.status_code == 422
    assert 'id="id_lon_error"' in response.content.decode()
    assert not Case.objects.exists()


def test_a_tampered_street_is_refused_even_with_a_point(operator: Client) -> None:
    """A point inside the district does not make a tampered 雨花区 street acceptable."""
    lon, lat = BJT_POINT
    response = operator.post("/hotline/", call_data(jurisdiction="430111001", lon=str(lon), lat=str(lat)))
    assert response.status_code == 422
    assert not Case.objects.exists()


def test_a_knowledge_entry_of_another_district_is_refused_at_the_answer(
    operator: Client, world: World
) -> None:
    entries = knowledge_base(world)
    response = operator.post(
        "/hotline/", call_data(do="answer", nature="consult", answer="答复。", entry=str(entries["yh"].pk))
    )
    assert response.status_code == 422
    assert 'id="id_answer_error"' in response.content.decode()
    assert not Case.objects.exists()
    assert not AnswerUse.objects.exists()
    assert KnowledgeEntry.objects.get(pk=entries["yh"].pk).use_count == 0
    assert (
        operator.get(f"/hotline/knowledge/{entries['yh'].pk}/", headers={"HX-Request": "true"}).status_code
        == 404
    )


def test_an_idempotency_key_of_someone_elses_case_returns_nothing_of_it(
    operator: Client, world: World
) -> None:
    theirs = new_case(
        world, actor="yh_dispatcher", point=YH_POINT, intake_key="hotline:theirs", title="雨花区的来电"
    )
    response = operator.post("/hotline/", call_data(intake_key="hotline:theirs"))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert theirs.number not in html
    assert "雨花区的来电" not in html
    assert Case.objects.count() == 1


def test_an_unpublished_entry_cannot_be_picked(operator: Client, world: World) -> None:
    draft = knowledge_base(world)["draft"]
    assert operator.get(f"/hotline/knowledge/{draft.pk}/").status_code == 404
    data = call_data(use_entry=str(draft.pk))
    del data["do"]
    html = operator.post("/hotline/", data).content.decode()
    assert draft.answer not in html
