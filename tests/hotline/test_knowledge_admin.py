"""The knowledge base's demo entries and its admin (administrators edit their own areas' entries)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from civicgrid.cases.models import Category
from civicgrid.demo.context import DemoContext
from civicgrid.hotline import demo
from civicgrid.hotline.models import KnowledgeEntry
from tests.hotline.helpers import knowledge_base
from tests.world import World


def test_the_demo_entries_are_loaded_once_with_their_areas_and_categories(world: World) -> None:
    top = Category.objects.create(code="16", name="劳动和社会保障", path="16/", depth=1)
    Category.objects.create(code="1601", name="城镇职工社会保险", parent=top, path="16/1601/", depth=2)
    said: list[str] = []
    ctx = DemoContext(data_dir=Path("/nonexistent"), say=said.append)
    demo.load(ctx)
    demo.load(ctx)
    assert 25 <= KnowledgeEntry.objects.count() == len(demo.ENTRIES) <= 40
    assert said[-1].endswith(f"0 entries created, {len(demo.ENTRIES)} kept")
    card = KnowledgeEntry.objects.get(title="社保卡丢失了怎么补办？")
    assert card.category is not None
    assert card.category.name == "城镇职工社会保险"
    assert card.jurisdiction == world.j("430100")
    assert KnowledgeEntry.objects.get(title="占道经营向哪里投诉？").jurisdiction == world.j("430103")
    assert KnowledgeEntry.objects.filter(jurisdiction__isnull=True).exists()


def test_the_demo_answers_name_no_invented_phone_numbers() -> None:
    for entry in demo.ENTRIES:
        numbers = set(re.findall(r"\d{5,}", entry.answer)) | set(re.findall(r"\d{3,4}-\d{7,8}", entry.answer))
        assert numbers <= {"12345", "12315"}, (entry.title, numbers)
        assert entry.keywords
        assert entry.answer.endswith("。")


@pytest.fixture
def admin_client(client_for: Callable[[str], Client]) -> Callable[[str], Client]:
    return client_for


def test_the_admin_searches_the_knowledge_base(world: World, admin_client: Callable[[str], Client]) -> None:
    knowledge_base(world)
    html = admin_client("root").get("/admin/hotline/knowledgeentry/", {"q": "公积金"}).content.decode()
    assert "住房公积金怎么提取？" in html
    assert "占道经营向哪里投诉？" not in html


def test_a_district_administrator_sees_and_edits_their_districts_entries_only(
    world: World, admin_client: Callable[[str], Client]
) -> None:
    entries = knowledge_base(world)
    client = admin_client("tx_admin")
    html = client.get("/admin/hotline/knowledgeentry/").content.decode()
    assert entries["tx"].title in html
    assert entries["everywhere"].title not in html
    assert entries["yh"].title not in html
    assert client.get(f"/admin/hotline/knowledgeentry/{entries['yh'].pk}/change/").status_code in (302, 404)

    form = {
        "title": "路灯报修",
        "answer": "通过12345反映。",
        "keywords": "路灯",
        "category": "",
        "is_published": "on",
    }
    refused = client.post("/admin/hotline/knowledgeentry/add/", {**form, "jurisdiction": ""})
    assert refused.status_code == 200
    assert "errorlist" in refused.content.decode()
    outside = client.post(
        "/admin/hotline/knowledgeentry/add/", {**form, "jurisdiction": str(world.j("430111").pk)}
    )
    assert outside.status_code == 200
    assert not KnowledgeEntry.objects.filter(title="路灯报修").exists()

    done = client.post(
        "/admin/hotline/knowledgeentry/add/", {**form, "jurisdiction": str(world.j("430103").pk)}
    )
    assert done.status_code == 302
    saved = KnowledgeEntry.objects.get(title="路灯报修")
    assert (saved.jurisdiction, saved.updated_by) == (world.j("430103"), world.u("tx_admin"))


def test_operators_do_not_edit_the_knowledge_base(
    world: World, admin_client: Callable[[str], Client]
) -> None:
    response = admin_client("tx_hotline").get("/admin/hotline/knowledgeentry/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
