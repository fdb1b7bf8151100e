"""The hotline's actions and queries called directly: answering a call in one transaction, editing the
knowledge base within one's own areas, and which entries an operator is offered."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from civicgrid.cases.models import Case, CaseEvent, CaseNumberCounter
from civicgrid.cases.workflow import Status
from civicgrid.hotline.actions import Call, do_answer_call, do_save_knowledge_entry, do_take_call
from civicgrid.hotline.models import AnswerUse, KnowledgeEntry
from civicgrid.hotline.queries import caller_history, visible_knowledge
from civicgrid.notifications.models import Notification
from tests.cases.helpers import Catalog, build_catalog
from tests.hotline.helpers import PHONE, knowledge_base
from tests.world import World


@pytest.fixture
def catalog(world: World) -> Catalog:
    return build_catalog()


@pytest.fixture
def kb(world: World, catalog: Catalog) -> dict[str, KnowledgeEntry]:
    return knowledge_base(world, catalog.consult)


def consult(world: World, **extra: object) -> Call:
    values: dict[str, object] = {
        "nature": "consult",
        "title": "社保卡丢了",
        "description": "来电咨询社保卡丢失后如何补办。",
        "jurisdiction": world.j("430103002001"),
        "reporter_phone": PHONE,
        "intake_key": "hotline:consult-1",
    }
    values.update(extra)
    return Call(**values)  # type: ignore[arg-type]


def _nothing_written() -> None:
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()
    assert not AnswerUse.objects.exists()
    assert not Notification.objects.exists()


def test_answering_a_call_records_the_case_the_answer_and_the_entry(
    world: World, kb: dict[str, KnowledgeEntry]
) -> None:
    case = do_answer_call(
        consult(world), answer="先挂失再补卡。", entry=kb["everywhere"], actor=world.u("tx_hotline")
    )
    case.refresh_from_db()
    assert case.status == Status.DIRECT_ANSWERED
    assert case.reply == "先挂失再补卡。"
    assert case.channel == "hotline"
    kb["everywhere"].refresh_from_db()
    assert kb["everywhere"].use_count == 1
    assert AnswerUse.objects.get().case == case


def test_answering_the_same_call_twice_answers_it_once(world: World, kb: dict[str, KnowledgeEntry]) -> None:
    actor = world.u("tx_hotline")
    first = do_answer_call(consult(world), answer="答复。", entry=kb["everywhere"], actor=actor)
    again = do_answer_call(consult(world), answer="答复。", entry=kb["everywhere"], actor=actor)
    assert first.pk == again.pk
    assert Case.objects.count() == 1
    assert AnswerUse.objects.count() == 1
    kb["everywhere"].refresh_from_db()
    assert kb["everywhere"].use_count == 1


def test_when_answering_fails_the_case_is_not_left_behind(
    world: World, kb: dict[str, KnowledgeEntry]
) -> None:
    # A grid worker may take a case in (report) but not answer it (intake): the second step is refused
    # after the first one wrote the case — and the case, its clocks, events and number go with it.
    with pytest.raises(PermissionDenied):
        do_answer_call(consult(world), answer="答复。", entry=kb["everywhere"], actor=world.u("bjt_grid"))
    _nothing_written()
    kb["everywhere"].refresh_from_db()
    assert kb["everywhere"].use_count == 0
    assert not CaseNumberCounter.objects.filter(last__gt=0).exists()


def test_a_failure_after_the_answer_rolls_everything_back(
    world: World, kb: dict[str, KnowledgeEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValidationError({"entry": "boom"})

    monkeypatch.setattr(AnswerUse.objects, "create", broken)
    with pytest.raises(ValidationError):
        do_answer_call(consult(world), answer="答复。", entry=kb["everywhere"], actor=world.u("tx_hotline"))
    _nothing_written()
    kb["everywhere"].refresh_from_db()
    assert kb["everywhere"].use_count == 0


def test_a_direct_answer_is_checked_before_anything_is_written(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        do_answer_call(consult(world, nature="complaint"), answer="  ", actor=world.u("tx_hotline"))
    assert set(refused.value.message_dict) == {"answer", "nature"}
    _nothing_written()


def test_an_entry_of_another_district_cannot_be_used(world: World, kb: dict[str, KnowledgeEntry]) -> None:
    with pytest.raises(ValidationError) as refused:
        do_answer_call(consult(world), answer="答复。", entry=kb["yh"], actor=world.u("tx_hotline"))
    assert set(refused.value.message_dict) == {"entry"}
    _nothing_written()


def test_the_chosen_category_wins_over_the_entrys(
    world: World, kb: dict[str, KnowledgeEntry], catalog: Catalog
) -> None:
    case = do_answer_call(
        consult(world, category=catalog.road),
        answer="答复。",
        entry=kb["everywhere"],
        actor=world.u("tx_hotline"),
    )
    assert case.category == catalog.road


def test_taking_a_call_in_keeps_the_case_open(world: World) -> None:
    case, created = do_take_call(consult(world, nature="help"), actor=world.u("tx_hotline"))
    assert created
    assert case.status == Status.RECEIVED
    assert case.channel == "hotline"
    again, created = do_take_call(consult(world, nature="help"), actor=world.u("tx_hotline"))
    assert not created
    assert again.pk == case.pk


# --- The knowledge base ---------------------------------------------------------------------------------


def test_an_administrator_edits_entries_of_their_own_district_only(world: World) -> None:
    admin = world.u("tx_admin")
    entry = do_save_knowledge_entry(
        None,
        title=" 路灯报修 ",
        answer="通过12345反映。",
        keywords="路灯  不亮",
        jurisdiction=world.j("430103"),
        actor=admin,
    )
    assert (entry.title, entry.keywords, entry.updated_by) == ("路灯报修", "路灯 不亮", admin)
    with pytest.raises(ValidationError) as outside:
        do_save_knowledge_entry(None, title="问", answer="答", jurisdiction=world.j("430111"), actor=admin)
    assert set(outside.value.message_dict) == {"jurisdiction"}
    with pytest.raises(ValidationError) as everywhere:
        do_save_knowledge_entry(None, title="问", answer="答", jurisdiction=None, actor=admin)
    assert set(everywhere.value.message_dict) == {"jurisdiction"}
    with pytest.raises(PermissionDenied):
        do_save_knowledge_entry(
            entry, title="改", answer="改", jurisdiction=world.j("430111"), actor=world.u("yh_admin")
        )
    entry.refresh_from_db()
    assert entry.title == "路灯报修"


def test_a_platform_wide_entry_is_not_taken_over_by_a_district(
    world: World, kb: dict[str, KnowledgeEntry]
) -> None:
    with pytest.raises(PermissionDenied):
        do_save_knowledge_entry(
            kb["everywhere"],
            title="改",
            answer="改",
            jurisdiction=world.j("430103"),
            actor=world.u("tx_admin"),
        )
    kb["everywhere"].refresh_from_db()
    assert kb["everywhere"].jurisdiction is None


def test_an_entry_needs_a_question_and_an_answer(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        do_save_knowledge_entry(None, title=" ", answer="", actor=None)
    assert set(refused.value.message_dict) == {"title", "answer"}


def test_edits_keep_the_use_count(world: World, kb: dict[str, KnowledgeEntry]) -> None:
    KnowledgeEntry.objects.filter(pk=kb["tx"].pk).update(use_count=3)
    do_save_knowledge_entry(
        kb["tx"], title="新问题", answer="新答案", jurisdiction=world.j("430103"), actor=None
    )
    kb["tx"].refresh_from_db()
    assert (kb["tx"].title, kb["tx"].use_count) == ("新问题", 3)


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("tx_hotline", {"everywhere", "keyword", "answer_only", "city", "tx"}),
        ("pzj_dispatcher", {"everywhere", "keyword", "answer_only", "city", "tx"}),  # areas above the street
        ("yh_dispatcher", {"everywhere", "keyword", "answer_only", "city", "yh"}),
        ("cs_dispatcher", {"everywhere", "keyword", "answer_only", "city", "tx", "yh"}),
        ("root", {"everywhere", "keyword", "answer_only", "city", "tx", "yh"}),
        ("nobody", {"everywhere", "keyword", "answer_only"}),
    ],
)
def test_operators_are_offered_the_entries_that_apply_where_they_work(
    world: World, kb: dict[str, KnowledgeEntry], username: str, visible: set[str]
) -> None:
    found = set(visible_knowledge(world.u(username)).values_list("pk", flat=True))
    assert found == {kb[key].pk for key in visible}


def test_the_caller_history_normalises_the_phone_like_the_intake(world: World) -> None:
    do_take_call(consult(world, reporter_phone="0731-8888 1234", intake_key="k-landline"), actor=None)
    history = caller_history(world.u("tx_hotline"), " 0731-88881234 ")
    assert history.count == 1
    assert history.masked_phone == "0731*****1234"
