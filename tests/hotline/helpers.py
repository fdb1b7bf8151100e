"""Shared pieces of the hotline tests: knowledge base entries at every scope and a filled-in call."""

from __future__ import annotations

from typing import Any

from civicgrid.cases.models import Category
from civicgrid.hotline.actions import do_save_knowledge_entry
from civicgrid.hotline.models import KnowledgeEntry
from tests.world import World

PHONE = "13812345678"  # the phone tests.cases.helpers.new_case gives every case


def knowledge_base(world: World, category: Category | None = None) -> dict[str, KnowledgeEntry]:
    """Entries for everywhere, 长沙市, 天心区 and 雨花区, and an unpublished one."""

    def make(
        title: str, answer: str, keywords: str = "", code: str | None = None, **extra: Any
    ) -> KnowledgeEntry:
        return do_save_knowledge_entry(
            None,
            title=title,
            answer=answer,
            keywords=keywords,
            jurisdiction=world.j(code) if code else None,
            actor=None,
            **extra,
        )

    return {
        "everywhere": make(
            "社保卡丢失了怎么补办？",
            "先挂失，再凭身份证到服务网点补卡。",
            "社保卡 补卡 挂失",
            category=category,
        ),
        "keyword": make("证件遗失怎么办？", "按证件种类到对应窗口补办。", "社保卡 身份证 遗失"),
        "answer_only": make("医保异地就医备案", "备案后持社保卡直接结算。", "医保 异地"),
        "city": make("住房公积金怎么提取？", "在公积金中心的网上服务大厅申请提取。", "公积金", "430100"),
        "tx": make(
            "占道经营向哪里投诉？", "可通过12345反映，派至属地街道和城管部门。", "占道 摊贩", "430103"
        ),
        "yh": make("雨花区社保卡网点在哪？", "雨花区的社保卡服务网点。", "社保卡", "430111"),
        "draft": make("社保卡草稿问题", "尚未发布。", "社保卡", is_published=False),
    }


def call_data(**extra: str) -> dict[str, str]:
    """The desk form as the browser posts it for a complaint in 八角亭社区."""
    data = {
        "intake_key": "hotline:test-call",
        "phone": PHONE,
        "name": "王芳",
        "nature": "complaint",
        "category": "",
        "urgency": "normal",
        "handling_class": "promised",
        "title": "小区门口占道经营",
        "description": "每天傍晚有摊贩在小区门口占道经营，影响通行。",
        "address": "八角亭路12号",
        "jurisdiction": "430103002001",
        "lon": "",
        "lat": "",
        "q": "",
        "answer": "",
        "entry": "",
        "do": "create",
    }
    data.update(extra)
    return data
