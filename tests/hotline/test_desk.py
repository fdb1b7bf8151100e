"""The hotline desk through the test client: taking a call in, answering it directly, the repeat-caller
panel and the knowledge base — with htmx and without JavaScript — and bad input kept at its field."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from civicgrid.cases.models import Case, CaseEvent, Channel
from civicgrid.cases.workflow import Status
from civicgrid.core import crypto
from civicgrid.hotline.models import AnswerUse, KnowledgeEntry
from tests.cases.helpers import Catalog, build_catalog, new_case
from tests.hotline.helpers import PHONE, call_data, knowledge_base
from tests.world import World

HX = {"HX-Request": "true"}


@pytest.fixture
def catalog(world: World) -> Catalog:
    return build_catalog()


@pytest.fixture
def kb(world: World, catalog: Catalog) -> dict[str, KnowledgeEntry]:
    return knowledge_base(world, catalog.consult)


@pytest.fixture
def operator(client_for: Callable[[str], Client]) -> Client:
    return client_for("tx_hotline")


def _number(response: object) -> str:
    location = response["Location"]  # type: ignore[index]
    found = re.fullmatch(r"/hotline/calls/([\d-]+)/", location)
    assert found, location
    return found.group(1)


def _error_at(html: str, field: str) -> bool:
    """The field's error is shown and the field's control points at it (aria-describedby)."""
    control = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="id_{field}"[^>]*>', html)
    described = control is not None and re.search(
        rf'aria-describedby="[^"]*\bid_{field}_error\b', control.group(0)
    )
    return f'id="id_{field}_error"' in html and bool(described)


# --- The page ---------------------------------------------------------------------------------------------


def test_the_desk_offers_the_operators_places_and_the_categories(operator: Client, catalog: Catalog) -> None:
    response = operator.get("/hotline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="phone"' in html
    assert "autofocus" in html.split('id="id_phone"')[0].rsplit("<input", 1)[1]
    assert '<optgroup label="坡子街街道">' in html
    assert '<option value="430103002001">八角亭社区</option>' in html
    assert '<option value="430103004001">天剑社区</option>' in html
    assert "梓园社区" not in html  # 雨花区 is outside the operator's scope
    assert '<optgroup label="城乡建设">' in html
    assert '<option value="010101">市政管理 › 道路破损</option>' in html
    key = re.search(r'name="intake_key" value="(hotline:[0-9a-f]{32})"', html)
    assert key, "each form carries a fresh idempotency key"
    assert operator.get("/hotline/").content.decode().count(key.group(1)) == 0


# --- Creating a case --------------------------------------------------------------------------------------


def test_a_call_becomes_a_case_and_the_confirmation_shows_its_number(operator: Client, world: World) -> None:
    response = operator.post("/hotline/", call_data())
    assert response.status_code == 303
    number = _number(response)
    case = Case.objects.get(number=number)
    assert (case.channel, case.status, case.nature) == (Channel.HOTLINE, Status.RECEIVED, "complaint")
    assert case.created_by == world.u("tx_hotline")
    assert case.origin.code == "430103002001"
    assert case.reporter_phone_digest == crypto.digest(PHONE)
    assert case.intake_key == "hotline:test-call"

    page = operator.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="case-number" class="case-number">{number}<' in html
    assert 'data-status="received"' in html
    assert 'id="case-due"' in html
    assert f'href="/cases/{number}/"' in html
    assert PHONE not in html
    assert "138****5678" in html


def test_sending_the_same_form_twice_creates_one_case(operator: Client) -> None:
    first = operator.post("/hotline/", call_data())
    again = operator.post("/hotline/", call_data())
    assert first.status_code == again.status_code == 303
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == 1


def test_a_point_places_the_case_in_its_grid_cell(operator: Client) -> None:
    response = operator.post("/hotline/", call_data(jurisdiction="", lon="112.91", lat="28.11"))
    assert response.status_code == 303
    case = Case.objects.get(number=_number(response))
    assert case.grid_cell is not None
    assert case.grid_cell.code == "430103002001001"


def test_missing_title_and_description_are_refused_at_their_fields_keeping_what_was_typed(
    operator: Client,
) -> None:
    response = operator.post("/hotline/", call_data(title="", description="  ", is_anonymous="on"))
    assert response.status_code == 422
    html = response.content.decode()
    assert _error_at(html, "title")
    assert _error_at(html, "description")
    assert 'class="error-summary"' in html
    assert 'href="#id_title"' in html
    assert 'href="#id_description"' in html
    assert f'value="{PHONE}"' in html
    assert 'value="王芳"' in html
    assert 'value="八角亭路12号"' in html
    assert '<option value="430103002001" selected>八角亭社区</option>' in html
    assert '<option value="complaint" selected>' in html
    assert (
        'name="is_anonymous" aria-describedby="id_is_anonymous_helptext" id="id_is_anonymous" checked' in html
    )
    assert 'value="hotline:test-call"' in html  # the same key: a corrected resubmission is still one call
    assert not Case.objects.exists()


def test_a_place_is_required(operator: Client) -> None:
    response = operator.post("/hotline/", call_data(jurisdiction=""))
    assert response.status_code == 422
    assert _error_at(response.content.decode(), "jurisdiction")
    assert not Case.objects.exists()


def test_half_a_point_is_refused_at_the_field(operator: Client) -> None:
    response = operator.post("/hotline/", call_data(jurisdiction="", lon="112.91"))
    assert response.status_code == 422
    html = response.content.decode()
    assert _error_at(html, "lon")
    assert '<details class="wide point" open>' in html  # the point fields are shown with their error
    assert not Case.objects.exists()


def test_a_malformed_phone_is_refused_at_the_phone_field(operator: Client) -> None:
    response = operator.post("/hotline/", call_data(phone="12345"))
    assert response.status_code == 422
    html = response.content.decode()
    assert _error_at(html, "phone")
    assert 'value="12345"' in html
    assert not Case.objects.exists()


def test_a_call_without_name_phone_or_anonymity_is_refused_at_the_name(operator: Client) -> None:
    response = operator.post("/hotline/", call_data(phone="", name=""))
    assert response.status_code == 422
    assert _error_at(response.content.decode(), "name")
    assert not Case.objects.exists()


# --- Answering directly -----------------------------------------------------------------------------------


def test_answering_from_the_knowledge_base_closes_the_call_at_intake(
    operator: Client, kb: dict[str, KnowledgeEntry], world: World
) -> None:
    entry = kb["everywhere"]
    response = operator.post(
        "/hotline/",
        call_data(do="answer", nature="consult", answer="先挂失，再补卡。", entry=str(entry.pk)),
    )
    assert response.status_code == 303
    case = Case.objects.get(number=_number(response))
    assert case.status == Status.DIRECT_ANSWERED
    assert case.reply == "先挂失，再补卡。"
    assert case.closed_at is not None
    assert case.category == entry.category  # no category chosen: the entry's
    use = AnswerUse.objects.get()
    assert (use.entry, use.case, use.actor) == (entry, case, world.u("tx_hotline"))
    entry.refresh_from_db()
    assert entry.use_count == 1
    assert list(CaseEvent.objects.filter(case=case).values_list("code", flat=True)) == [
        "create",
        "answer_directly",
    ]

    html = operator.get(response["Location"]).content.decode()
    assert 'data-status="direct_answered"' in html
    assert 'id="case-closed"' in html
    assert "先挂失，再补卡。" in html
    assert f'href="/hotline/knowledge/{entry.pk}/"' in html


def test_a_direct_answer_needs_the_answer_text(operator: Client, kb: dict[str, KnowledgeEntry]) -> None:
    response = operator.post(
        "/hotline/", call_data(do="answer", nature="consult", entry=str(kb["everywhere"].pk))
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert _error_at(html, "answer")
    assert 'value="小区门口占道经营"' in html
    assert not Case.objects.exists()
    kb["everywhere"].refresh_from_db()
    assert kb["everywhere"].use_count == 0


def test_only_consultations_are_answered_directly(operator: Client) -> None:
    response = operator.post("/hotline/", call_data(do="answer", nature="complaint", answer="已告知。"))
    assert response.status_code == 422
    html = response.content.decode()
    assert _error_at(html, "nature")
    assert "已告知。" in html  # the answer typed is kept
    assert not Case.objects.exists()


def test_a_direct_answer_without_an_entry_is_recorded_without_a_use(operator: Client) -> None:
    response = operator.post(
        "/hotline/", call_data(do="answer", nature="consult", answer="营业时间为工作日。")
    )
    assert response.status_code == 303
    assert Case.objects.get().status == Status.DIRECT_ANSWERED
    assert not AnswerUse.objects.exists()


# --- The caller's earlier cases ---------------------------------------------------------------------------


def test_the_lookup_lists_the_callers_earlier_cases_newest_first_with_the_phone_masked(
    operator: Client, world: World
) -> None:
    older = new_case(world, title="路灯不亮")
    newer = new_case(world, title="井盖缺失")
    other = new_case(world, title="别人的问题", reporter_phone="13900001111")
    response = operator.post("/hotline/caller/", {"phone": "138 1234 5678"}, headers=HX)  # spaces as typed
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(newer.number) < html.index(older.number)
    assert other.number not in html
    assert "138****5678" in html
    assert PHONE not in html
    assert "2" in html.split('class="repeat-caller"')[1].split("</p>")[0]


def test_the_lookup_lists_ten_cases_and_counts_them_all(operator: Client, world: World) -> None:
    numbers = [new_case(world, title=f"第{i}次来电").number for i in range(11)]
    html = operator.post("/hotline/caller/", {"phone": PHONE}, headers=HX).content.decode()
    assert html.count('<a href="/cases/') == 10
    assert numbers[0] not in html
    assert numbers[-1] in html
    assert "11" in html.split('class="repeat-caller"')[1].split("</p>")[0]


def test_a_first_time_caller_has_no_earlier_cases(operator: Client) -> None:
    response = operator.post("/hotline/caller/", {"phone": "13700000000"}, headers=HX)
    assert response.status_code == 200
    assert 'class="first-caller"' in response.content.decode()


def test_a_malformed_phone_is_answered_in_the_panel(operator: Client) -> None:
    response = operator.post("/hotline/caller/", {"phone": "12345"}, headers=HX)
    assert response.status_code == 422
    assert 'class="field-error" role="alert"' in response.content.decode()


def test_without_javascript_the_lookup_shows_the_form_again_with_the_earlier_cases(
    operator: Client, world: World
) -> None:
    case = new_case(world)
    response = operator.post("/hotline/", call_data(do="lookup", title="正在记录的标题"))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html
    assert 'value="正在记录的标题"' in html
    assert 'class="error-summary"' not in html
    assert Case.objects.count() == 1


# --- The knowledge base -----------------------------------------------------------------------------------


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 id="kb-\d+">([^<]+)</h3>', html)


def test_the_search_ranks_question_matches_first_and_stays_in_the_operators_scope(
    operator: Client, kb: dict[str, KnowledgeEntry]
) -> None:
    html = operator.get("/hotline/knowledge/", {"q": "社保卡"}, headers=HX).content.decode()
    # question match, then keyword match, then answer-only match; not 雨花区's, not the unpublished one
    assert _titles(html) == [kb["everywhere"].title, kb["keyword"].title, kb["answer_only"].title]


def test_the_search_finds_entries_of_the_city_above_and_the_district(
    operator: Client, kb: dict[str, KnowledgeEntry]
) -> None:
    assert _titles(operator.get("/hotline/knowledge/", {"q": "公积金"}, headers=HX).content.decode()) == [
        kb["city"].title
    ]
    assert _titles(operator.get("/hotline/knowledge/", {"q": "占道 摊贩"}, headers=HX).content.decode()) == [
        kb["tx"].title
    ]


def test_an_empty_search_offers_the_most_used_entries(
    operator: Client, kb: dict[str, KnowledgeEntry]
) -> None:
    KnowledgeEntry.objects.filter(pk=kb["tx"].pk).update(use_count=5)
    titles = _titles(operator.get("/hotline/knowledge/", {"q": ""}, headers=HX).content.decode())
    assert titles[0] == kb["tx"].title
    assert kb["yh"].title not in titles
    assert kb["draft"].title not in titles


def test_without_javascript_the_search_is_shown_on_the_desk(
    operator: Client, kb: dict[str, KnowledgeEntry]
) -> None:
    response = operator.get("/hotline/knowledge/", {"q": "公积金"})
    assert response.status_code == 302
    assert response["Location"].startswith("/hotline/?q=")
    html = operator.get(response["Location"]).content.decode()
    assert _titles(html) == [kb["city"].title]
    posted = operator.post("/hotline/", call_data(do="search", q="公积金")).content.decode()
    assert _titles(posted) == [kb["city"].title]
    assert 'value="小区门口占道经营"' in posted


def test_picking_an_entry_fills_the_answer_box(operator: Client, kb: dict[str, KnowledgeEntry]) -> None:
    entry = kb["tx"]
    response = operator.get(f"/hotline/knowledge/{entry.pk}/", headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="answer-box" data-entry-title="占道经营向哪里投诉？">')
    assert f">\n{entry.answer}</textarea>" in html
    assert f'name="entry" value="{entry.pk}"' in html


def test_without_javascript_picking_an_entry_fills_the_answer_and_an_empty_title(
    operator: Client, kb: dict[str, KnowledgeEntry]
) -> None:
    entry = kb["tx"]
    data = call_data(title="", description="问占道经营", use_entry=str(entry.pk))
    del data["do"]  # the browser sends the name and value of the button pressed only
    response = operator.post("/hotline/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert f">\n{entry.answer}</textarea>" in html
    assert f'name="entry" value="{entry.pk}"' in html
    assert f'value="{entry.title}"' in html  # the title was empty: the entry's question
    assert "问占道经营</textarea>" in html
    assert not Case.objects.exists()


def test_an_entry_has_its_own_page(operator: Client, kb: dict[str, KnowledgeEntry]) -> None:
    response = operator.get(f"/hotline/knowledge/{kb['city'].pk}/")
    assert response.status_code == 200
    assert "<h1>住房公积金怎么提取？</h1>" in response.content.decode()


# --- Methods ----------------------------------------------------------------------------------------------


def test_post_only_and_get_only_routes_refuse_the_other_method(
    operator: Client, kb: dict[str, KnowledgeEntry], world: World
) -> None:
    number = new_case(world).number
    assert operator.get("/hotline/caller/").status_code == 405
    assert operator.post("/hotline/knowledge/").status_code == 405
    assert operator.post(f"/hotline/knowledge/{kb['tx'].pk}/").status_code == 405
    assert operator.post(f"/hotline/calls/{number}/").status_code == 405
    assert operator.put("/hotline/").status_code == 405
